"""What ``init_pixel`` installs into the process: excepthooks, root logger, server-logger taps."""
