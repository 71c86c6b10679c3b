from missiond.entry import main

main()
