"""Calls: the PBX's events, the call they describe (fold), the tracker that stores them, numbers."""
