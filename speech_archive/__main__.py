from speech_archive.cli import main

main()
