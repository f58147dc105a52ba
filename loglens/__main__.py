from loglens.cli import main

main()
