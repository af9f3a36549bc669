"""The built-in device backend, ``cpu`` (gloo between processes), registered through the
same hook as the plugins' cuda and npu backends, and the precision part they all share
(:mod:`.precision`). It imports plugins, model and system below it."""
