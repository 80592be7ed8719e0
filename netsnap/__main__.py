from netsnap.cli import main

main()
