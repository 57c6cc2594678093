"""The Qt shell: tray, popups and windows over the Qt-free core."""
