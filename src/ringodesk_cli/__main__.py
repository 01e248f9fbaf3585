from ringodesk_cli.main import run

run()
