"""Set-up tools run once, outside the served packages: the offline model converter."""
