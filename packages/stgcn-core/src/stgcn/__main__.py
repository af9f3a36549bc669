import os

# Before anything imports torch: see stgcn.cli.
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

from stgcn.cli import main

main()
