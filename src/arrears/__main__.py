from arrears.cli import app

app()
