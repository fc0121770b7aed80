from greenfleet.cli.main import main

main()
