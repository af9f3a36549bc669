"""The lowest layer: process-wide helpers that know nothing of models or plugins
(malloc's handling of freed memory, peak memory figures, the cores the process may
use, the old module names)."""
