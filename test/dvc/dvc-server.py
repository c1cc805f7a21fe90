# Runs the real `dvc` command line many times without paying Python's start-up and DVC's imports
# each time: the modules a `dvc repro` uses are imported once, then every request (one JSON line
# on stdin: cwd, env, args, log file) is served by a forked child that runs dvc's own entry point
# (`dvc.cli.main`, what the `dvc` script calls) with that directory and environment, its output
# going to the log file. The answer is one JSON line: the exit code.
import json
import os
import sys

from dvc.cli import main
# What `dvc init` and `dvc repro` import on their way, so no child imports them again.
import dvc.commands.init  # noqa: F401
import dvc.commands.repro  # noqa: F401
import dvc.dependency  # noqa: F401
import dvc.dvcfile  # noqa: F401
import dvc.output  # noqa: F401
import dvc.parsing  # noqa: F401
import dvc.repo.init  # noqa: F401
import dvc.repo.reproduce  # noqa: F401
import dvc.stage  # noqa: F401

for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(req["cwd"])
            os.environ.clear()
            os.environ.update(req["env"])
            fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.argv = ["dvc", *req["args"]]
            code = main(req["args"])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code or 0)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)
