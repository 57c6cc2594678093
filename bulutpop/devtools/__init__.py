"""Development tools, not the product: a fake PBX, the demo, scenario replay."""
