"""The `arrears` command line: thin translation from words on a terminal to service calls.

Every read command has `--json`. Errors a user can cause (an unknown loan, a bad amount, a bad
file) print one line and exit with status 2; anything else is a bug and is allowed to be loud.
Each subject registers its commands on the shared app in its own module.
"""

from arrears.cli import admission as admission  # registers `arrears admit`
from arrears.cli import blacklist as blacklist  # registers `arrears blacklist …`
from arrears.cli import book as book  # registers the book commands
from arrears.cli import bureau as bureau  # registers `arrears bureau …`
from arrears.cli import cob as cob  # registers `arrears cob` and `arrears snapshot`
from arrears.cli import collection as collection  # registers `arrears case …`, `promise …`, …
from arrears.cli import contact as contact  # registers `arrears contact …` and `arrears worker`
from arrears.cli import models as models  # registers `arrears model …`
from arrears.cli import reports as reports  # registers the report commands
from arrears.cli import serve as serve  # registers `arrears serve`
from arrears.cli import simulate as simulate  # registers `arrears simulate`
from arrears.cli import users as users  # registers `arrears user …` and `arrears token …`
from arrears.cli.common import app

__all__ = ["app"]
