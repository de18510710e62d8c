from videogen.cli import main

main()
