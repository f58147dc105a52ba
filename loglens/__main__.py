from loglens.cli import app

app(prog_name="loglens")
