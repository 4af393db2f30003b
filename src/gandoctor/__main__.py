from gandoctor.cli import main

main()
