"""The TOML settings: the registry of keys, load, validate, save; durations."""
