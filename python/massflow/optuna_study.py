"""The Optuna side of `sweep.optuna`: one long-lived process per sweep that holds the study and
answers the runner over a line protocol (one JSON object per line on stdin, one reply per line on
stdout). massflow asks a trial, reports its streamed metric as intermediate values, and tells how it
ended; every sampling and pruning decision is Optuna's own (ask-and-tell interface).

    {"op": "open", "storage": ..., "study": ..., "directions": ["minimize", ...], "sampler": {...},
     "pruner": {...} | null, "space": {param: distribution}, "trials": N, "owner": {...}}
        -> {"ok": true, "requeued": [numbers], "finished": N}
    {"op": "ask"}                                  -> {"ok": true, "number": 3, "params": {...}}
                                                      or {"ok": true, "done": true}: budget reached
        A param whose distribution has "when": {param: [values]} is suggested only when each of
        those params (declared before it) was suggested with one of the values; otherwise it is
        left out of the trial's params (define-by-run, as Optuna's conditional search spaces).
    {"op": "report", "number": 3, "step": 2, "value": 0.4} -> {"ok": true, "prune": false}
    {"op": "tell", "number": 3, "state": "complete"|"pruned"|"fail", "values": [0.1, ...] | null}
        -> {"ok": true}
    {"op": "best"}        -> {"ok": true, "best": [{"number", "values", "params"}, ...]}: the best
                             trial, or with several directions the Pareto front (Optuna's best_trials)
    {"op": "inspect", "storage": ..., "study": ...}  (instead of "open"; changes nothing)
        -> {"ok": true, "exists": bool, "trials": [{"number", "state", "params", "values",
            "last_step", "interrupted", "surplus", "owner_alive"}, ...]}

A failure is {"ok": false, "error": message}, with "field": "storage" or "sampler" when the
experiment's field of that name is the cause (an unreachable database, a sampler missing a package). At end of input the process exits; trials it asked
and was never told about stay RUNNING in the study, owned by this process (host, pid and start
time, a user attribute): the next `open` of the study finds their owner dead, marks them failed and
enqueues their params, so they are asked again and never counted twice.

Run as `python -m massflow.optuna_study` with python/ on PYTHONPATH, on the interpreter of the
pinned Optuna virtualenv (scripts/optuna-venv.sh).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import sys
from typing import Any, Dict, List, Optional

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._lazy_random_state import LazyRandomState
from optuna.trial import TrialState

OWNER_ATTR = "massflow.owner"
INTERRUPTED_ATTR = "massflow.interrupted"
SURPLUS_ATTR = "massflow.surplus"


def distribution(d: Dict[str, Any]):
    if "uniform" in d:
        lo, hi = d["uniform"]
        return FloatDistribution(lo, hi, step=d.get("step"))
    if "log-uniform" in d:
        lo, hi = d["log-uniform"]
        return FloatDistribution(lo, hi, log=True)
    if "integer" in d:
        lo, hi = d["integer"]
        return IntDistribution(int(lo), int(hi), log=bool(d.get("log", False)), step=int(d.get("step", 1)))
    return CategoricalDistribution(d["choice"])


def sampler(spec: Dict[str, Any]):
    name, seed, options = spec["name"], spec.get("seed"), dict(spec.get("options") or {})
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, **options)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, **options)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, **options)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, **options)
    raise ValueError(f"unknown sampler {name!r}")


def pruner(spec: Optional[Dict[str, Any]]):
    if not spec:
        return optuna.pruners.NopPruner()
    name, options = spec["name"], dict(spec.get("options") or {})
    if name == "median":
        return optuna.pruners.MedianPruner(**options)
    if name == "successive-halving":
        return optuna.pruners.SuccessiveHalvingPruner(**options)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(**options)
    raise ValueError(f"unknown pruner {name!r}")


class Located(Exception):
    """A failure the runner reports at one field of the experiment's `sweep.optuna` (storage, sampler)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def redacted(url: str) -> str:
    """The URL without its password: it goes into messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def storage(url: str):
    if url == ":memory:":  # a study that lives as long as this process (tests, benchmarks)
        return None
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend
        return optuna.storages.JournalStorage(JournalFileBackend(url[len("journal:"):]))
    if url.startswith("sqlite:"):
        sqlite_write_ahead()
    if url.startswith("postgresql") and "connect_timeout" not in url:
        # A server that does not answer (a wrong host, a firewall) fails the open in 10 s
        # instead of waiting for the system's TCP timeout.
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"connect_timeout": 10}})
    return url


def open_storage(url: str, study: str):
    """The storage and the study in it (None when there is none yet), or a Located error at `storage`."""
    try:
        store = storage(url)
        if store is None:
            return None, None
        try:
            return store, optuna.load_study(study_name=study, storage=store)
        except KeyError:  # no such study yet: create_study makes it
            return store, None
    except Exception as e:
        # The driver's first line says what failed (refused, unknown host, bad password, no driver).
        first = next((l.strip() for l in str(e).splitlines() if l.strip()), type(e).__name__)
        raise Located("storage", f"cannot open the study's storage {redacted(url)}: {redacted(first)}") from None


def sqlite_write_ahead() -> None:
    """SQLite in write-ahead mode with NORMAL sync: a commit no longer waits for the disk, which
    roughly halves a trial's ask and tell (150-200 ms down to 90-120 ms on this busy 2-core machine;
    they were most of what the study adds to a trial). A committed trial still survives the runner
    being killed; only a power cut may lose the last commits, and a trial that a sweep did not finish
    is asked again anyway. Readers such as optuna-dashboard read on while the sweep writes."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", sqlite_pragmas):
        event.listen(Engine, "connect", sqlite_pragmas)


def sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def proc_start(pid: int) -> Optional[str]:
    """The process's start time in clock ticks (Linux); a reused pid has another."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def owner_alive(owner: Dict[str, Any]) -> bool:
    if owner.get("host") != socket.gethostname():
        return True  # another machine's trial: it may well be running; leave it alone
    start = proc_start(int(owner.get("pid", -1)))
    return start is not None and start == owner.get("start")


def reseed(sampler: optuna.samplers.BaseSampler, seed: int) -> None:
    """Restarts every random stream of the sampler, and of the samplers inside it, from `seed`."""
    seen = set()

    def walk(o: Any) -> None:
        if id(o) in seen:
            return
        seen.add(id(o))
        for v in vars(o).values():
            if isinstance(v, LazyRandomState):
                v.rng.seed(seed % 2**32)
            elif isinstance(v, optuna.samplers.BaseSampler):
                walk(v)

    walk(sampler)


def not_counted(t: optuna.trial.FrozenTrial) -> bool:
    """A trial a crash interrupted (asked again under a new number) or one asked past the budget."""
    return t.state == TrialState.FAIL and bool(t.user_attrs.get(INTERRUPTED_ATTR) or t.user_attrs.get(SURPLUS_ATTR))


def condition(d: Dict[str, Any]) -> Dict[str, List[str]]:
    """`when` as param -> the accepted values, each as canonical JSON (so True is not 1)."""
    out = {}
    for key, values in (d.get("when") or {}).items():
        out[key] = [canonical(v) for v in (values if isinstance(values, list) else [values])]
    return out


def canonical(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def active(params: Dict[str, Any], when: Dict[str, List[str]]) -> bool:
    return all(key in params and canonical(params[key]) in values for key, values in when.items())


class Study:
    def __init__(self, msg: Dict[str, Any]):
        # In the order written: a param's conditions are on params before it.
        self.space = [(k, distribution(d), condition(d)) for k, d in msg["space"].items()]
        self.budget = int(msg["trials"])
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(), "start": proc_start(os.getpid())}
        spec = dict(msg["sampler"])
        if spec["name"] == "gp" and importlib.util.find_spec("torch") is None:
            # Optuna's GP sampler imports PyTorch only once its startup trials are done; say so now.
            raise Located("sampler", f"sampler 'gp' needs PyTorch, which the virtualenv {sys.prefix} does not hold: add it with `{sys.executable} -m pip install torch`, or choose another sampler (tpe)")
        # A resumed study's sampler gets the seed moved on by the trials it already has: the same
        # seed again would ask the first trials' params once more.
        store, existing = open_storage(msg["storage"], msg["study"])
        known = len(existing.trials) if existing else 0
        self.seed = None if spec.get("seed") is None else int(spec["seed"])
        if self.seed is not None:
            spec["seed"] = self.seed + known
        # The number this process's next trial gets while it is the study's only writer.
        self.expected = known
        self.study = optuna.create_study(
            storage=store, study_name=msg["study"], directions=msg["directions"],
            sampler=sampler(spec), pruner=pruner(msg.get("pruner")), load_if_exists=True,
        )
        self.live: Dict[int, optuna.trial.Trial] = {}
        self.requeued = self.recover()

    def recover(self):
        """Trials left RUNNING by a dead owner: failed (marked interrupted, so not counted) and asked again."""
        out = []
        st = self.study._storage
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if owner_alive(t.user_attrs.get(OWNER_ATTR, {})):
                continue
            st.set_trial_user_attr(t._trial_id, INTERRUPTED_ATTR, True)
            st.set_trial_state_values(t._trial_id, TrialState.FAIL)
            self.study.enqueue_trial(t.params, user_attrs={"massflow.retry_of": t.number}, skip_if_exists=False)
            out.append(t.number)
        return out

    def counted(self) -> int:
        """Trials that use up the budget: finished ones (but not those a crash interrupted) and running ones."""
        return sum(1 for t in self.study.get_trials(deepcopy=False) if t.state != TrialState.WAITING and not not_counted(t))

    def ask(self):
        if self.counted() >= self.budget:
            return {"done": True}
        trial = self.study.ask()
        # Several processes on one study (a journal file or a database) may each see room for one
        # more trial and ask at once. Trial numbers are the storage's own order, so the trials
        # counted before this one decide: past the budget, it is failed as surplus (not counted)
        # and this process asks no more. Queued retries count, since they will be asked.
        before = sum(1 for t in self.study.get_trials(deepcopy=False) if t.number < trial.number and not not_counted(t))
        if before >= self.budget:
            self.study._storage.set_trial_user_attr(trial._trial_id, SURPLUS_ATTR, True)
            self.study.tell(trial, state=TrialState.FAIL)
            return {"done": True}
        # Another process took numbers in between: the sampler restarts from the seed moved on by
        # this trial's number, so two processes with one seed do not ask the same params. Alone,
        # a process never does this, and a seeded study asks what it always asked.
        if self.seed is not None and trial.number != self.expected:
            reseed(self.study.sampler, self.seed + trial.number)
        self.expected = trial.number + 1
        for name, dist, when in self.space:
            if active(trial.params, when):
                trial._suggest(name, dist)  # what study.ask(fixed_distributions) does for each
        self.study._storage.set_trial_user_attr(trial._trial_id, OWNER_ATTR, self.owner)
        self.live[trial.number] = trial
        return {"number": trial.number, "params": trial.params}

    def report(self, number: int, step: int, value: float):
        trial = self.live[number]
        trial.report(value, step)
        return {"prune": bool(trial.should_prune())}

    def tell(self, number: int, state: str, values: Optional[List[float]]):
        trial = self.live.pop(number)
        if state == "complete":
            self.study.tell(trial, values)
        elif state == "pruned":
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.study.tell(trial, state=TrialState.FAIL)
        return {}

    def best(self):
        if not self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            return {"best": []}
        best = self.study.best_trials if len(self.study.directions) > 1 else [self.study.best_trial]
        return {"best": [{"number": b.number, "values": b.values, "params": b.params} for b in best]}


def inspect(msg: Dict[str, Any]):
    """The study as it stands, read without creating, recovering or asking anything (--dry-run).
    An SQLite or journal file that does not exist yet is not created."""
    url = msg["storage"]
    file = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url[len("journal:"):] if url.startswith("journal:") else None
    if url == ":memory:" or (file is not None and not os.path.exists(file)):
        return {"exists": False, "trials": []}
    _, study = open_storage(url, msg["study"])
    if study is None:
        return {"exists": False, "trials": []}
    trials = []
    for t in study.get_trials(deepcopy=False):
        owner = t.user_attrs.get(OWNER_ATTR)
        trials.append({
            "number": t.number, "state": t.state.name, "params": t.params, "values": t.values,
            "last_step": t.last_step, "interrupted": bool(t.user_attrs.get(INTERRUPTED_ATTR)),
            "surplus": bool(t.user_attrs.get(SURPLUS_ATTR)),
            "owner_alive": owner_alive(owner) if t.state == TrialState.RUNNING and owner else None,
        })
    return {"exists": True, "trials": trials}


def main() -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study: Optional[Study] = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            op = msg.get("op")
            if op == "open":
                study = Study(msg)
                finished = sum(1 for t in study.study.get_trials(deepcopy=False) if t.state.is_finished())
                reply = {"requeued": study.requeued, "finished": finished}
            elif op == "inspect":
                reply = inspect(msg)
            elif study is None:
                raise ValueError("the study is not open")
            elif op == "ask":
                reply = study.ask()
            elif op == "report":
                reply = study.report(int(msg["number"]), int(msg["step"]), float(msg["value"]))
            elif op == "tell":
                reply = study.tell(int(msg["number"]), msg["state"], msg.get("values"))
            elif op == "best":
                reply = study.best()
            else:
                raise ValueError(f"unknown op {op!r}")
            reply = {"ok": True, **reply}
        except Located as e:
            reply = {"ok": False, "error": str(e), "field": e.field}
        except Exception as e:  # every failure is a reply: the runner words it
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
