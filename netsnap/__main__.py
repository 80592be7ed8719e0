from netsnap.cli.app import main

main()
