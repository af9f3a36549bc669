from stgcn.cli import main

main()
