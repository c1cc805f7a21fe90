#!/usr/bin/env bash
# A real one-node Slurm cluster (controller, compute node, munge) on this machine, from Debian's
# packages, for the Slurm executor's integration tests. Runs as root, with no systemd and no
# cgroups. Daemons are tracked by their pid files, so every subcommand is idempotent.
#
#   scripts/slurm-local.sh up      install when missing, (re)start what is not running, run a job
#   scripts/slurm-local.sh check   health check only: exit 0 when a job runs to completion
#   scripts/slurm-local.sh status  daemons, node and queue
#   scripts/slurm-local.sh down    cancel all jobs, then stop slurmd, slurmctld and munged
#   scripts/slurm-local.sh purge   down, then delete state, logs and the generated slurm.conf
#
# Settings (environment):
#   SLURM_LOCAL_CPUS=N       CPU slots the node advertises (default 8, so several jobs run at
#                            once even on a 2-core machine; "hw" = what the hardware has)
#   SLURM_LOCAL_FRESH=1      wipe the controller's state on up, so job ids start again at 1
#   SLURM_LOCAL_MINJOBAGE=S  seconds finished jobs stay visible to squeue/scontrol (default 3600)
#   SLURM_LOCAL_FAST=0       keep Slurm's stock scheduler pacing (about 3 s per job start)
#   SLURM_LOCAL_JOBCOMP=1    log finished jobs to /var/log/slurm/jobcomp.log
#   SLURM_LOCAL_TIMEOUT=S    how long up/check wait for the cluster (default 60)
set -euo pipefail

CONF=/etc/slurm/slurm.conf
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
CTLD_STATE=/var/spool/slurmctld
SLURMD_SPOOL=/var/spool/slurmd
LOG_DIR=/var/log/slurm
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}

say() { echo "slurm-local: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (the daemons and the munge key need it); try sudo $0 ${1:-up}"

# --- processes, by pid file -------------------------------------------------------------------

# True when the pid file names a live (not zombie) process whose command is $2. PID 1 here may not
# reap children, so a stopped daemon can linger as <defunct>: read /proc rather than trust kill -0.
alive() {
  local pidfile=$1 comm=$2 pid state
  [ -s "$pidfile" ] || return 1
  pid=$(tr -dc '0-9' 2>/dev/null <"$pidfile")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
  [ "$state" != Z ]
}

pid_of() { tr -dc '0-9' <"$1"; }

# SIGTERM (never SIGKILL first: a killed slurmctld loses jobs and reuses their ids), then wait.
stop_daemon() {
  local pidfile=$1 comm=$2 pid i
  if ! alive "$pidfile" "$comm"; then rm -f "$pidfile"; return 0; fi
  pid=$(pid_of "$pidfile")
  say "stopping $comm (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    alive "$pidfile" "$comm" || break
    sleep 0.1
  done
  if alive "$pidfile" "$comm"; then
    say "$comm (pid $pid) ignored SIGTERM for 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$pidfile"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq 1 $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "timed out after ${secs}s waiting for $what"
}

# --- install -------------------------------------------------------------------------------------

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  command -v apt-get >/dev/null || die "slurm is not installed and apt-get is not available to install it"
  say "installing slurmctld slurmd slurm-client munge"
  # The packages' maintainer scripts would try to start the daemons and race ours: forbid that
  # with a policy file for the duration of the install, unless the image already has one.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  local rc=0
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 slurmctld slurmd slurm-client munge >/dev/null || rc=$?
  [ "$own_policy" = 1 ] && rm -f "$policy"
  [ "$rc" = 0 ] || die "apt-get install failed (exit $rc)"
}

# --- munge ---------------------------------------------------------------------------------------

start_munge() {
  alive "$MUNGE_PID" munged && return 0
  # Without systemd nobody creates /run/munge, and munged refuses directories or logs that are not
  # owned by its own user (a root-started munged leaves a root-owned log behind).
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating the munge key"
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
  fi
  chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
  chmod 0700 /etc/munge /var/lib/munge /var/log/munge
  chmod 0755 /run/munge
  chmod 0400 /etc/munge/munge.key
  rm -f "$MUNGE_PID"
  if ! runuser -u munge -- /usr/sbin/munged >/dev/null 2>&1; then
    say "munged would not start as user munge; starting it as root with --force"
    /usr/sbin/munged --force >/dev/null 2>&1 || die "munged does not start; see /var/log/munge/munged.log"
  fi
  wait_for 10 munged alive "$MUNGE_PID" munged
}

# --- configuration -------------------------------------------------------------------------------

# slurm.conf for this machine. Node facts come from `slurmd -C`, which works before any conf
# exists; declaring more memory than it reports would drain the node ("Low RealMemory").
render_conf() {
  local host facts cpus mem overrides="" sched="" jobcomp="JobCompType=jobcomp/none"
  host=$(hostname -s)
  facts=$(slurmd -C 2>/dev/null | head -1)
  cpus=$(sed -n 's/.*\bCPUs=\([0-9]*\).*/\1/p' <<<"$facts")
  mem=$(sed -n 's/.*\bRealMemory=\([0-9]*\).*/\1/p' <<<"$facts")
  [ -n "$cpus" ] && [ -n "$mem" ] || die "cannot read this node's CPUs and memory from 'slurmd -C': $facts"
  local want=${SLURM_LOCAL_CPUS:-8}
  if [ "$want" != hw ] && [ "$want" != "$cpus" ]; then
    [[ "$want" =~ ^[1-9][0-9]*$ ]] || die "SLURM_LOCAL_CPUS must be a positive integer or 'hw', got '$want'"
    cpus=$want
    # Without config_overrides slurmd reports the mismatch with the hardware and the node drains.
    overrides="SlurmdParameters=config_overrides"
  fi
  # Stock batch_sched_delay is 3 s per start; tests want the 1-s background tick only.
  [ "${SLURM_LOCAL_FAST:-1}" = 0 ] || sched="SchedulerParameters=batch_sched_delay=0,sched_min_interval=0"
  [ "${SLURM_LOCAL_JOBCOMP:-0}" = 1 ] && jobcomp="JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log"
  cat <<EOF
# Generated by massflow's scripts/slurm-local.sh; rewritten on every 'up'.
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$CTLD_STATE
SlurmdSpoolDir=$SLURMD_SPOOL
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
$jobcomp
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
$sched
$overrides
ReturnToService=2
MinJobAge=${SLURM_LOCAL_MINJOBAGE:-3600}
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

# Writes slurm.conf; returns 0 when it changed.
write_conf() {
  local new
  new=$(render_conf)
  mkdir -p "$(dirname "$CONF")" "$CTLD_STATE" "$SLURMD_SPOOL" "$LOG_DIR"
  if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$new" ]; then return 1; fi
  printf '%s\n' "$new" >"$CONF.tmp"
  mv -f "$CONF.tmp" "$CONF"
  return 0
}

# --- cluster -------------------------------------------------------------------------------------

node_state() { sinfo -h -N -o %T 2>/dev/null | head -1; }

node_usable() {
  case "$(node_state)" in idle | mixed | allocated | completing) return 0 ;; *) return 1 ;; esac
}

start_slurm() {
  if ! alive "$CTLD_PID" slurmctld; then
    say "starting slurmctld"
    rm -f "$CTLD_PID"
    /usr/sbin/slurmctld || die "slurmctld does not start; see $LOG_DIR/slurmctld.log"
  fi
  wait_for 15 "slurmctld to answer" scontrol ping
  if ! alive "$SLURMD_PID" slurmd; then
    say "starting slurmd"
    rm -f "$SLURMD_PID"
    /usr/sbin/slurmd || die "slurmd does not start; see $LOG_DIR/slurmd.log"
  fi
  # The node reads 'unknown' for a moment after slurmd registers; a node left down or drained
  # by an earlier incarnation is resumed explicitly.
  local i
  for i in $(seq 1 $((TIMEOUT * 10))); do
    node_usable && return 0
    case "$(node_state)" in
      down* | drain* | fail*) scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.1
  done
  die "node is '$(node_state)' after ${TIMEOUT}s; see $LOG_DIR/slurmd.log and $LOG_DIR/slurmctld.log"
}

# Submits a trivial job and waits for it to complete. This also absorbs the controller's first
# scheduling pass, which comes about 3 s after it starts, so tests do not pay for it.
check() {
  command -v sbatch >/dev/null || die "sbatch is not installed; run: $0 up"
  alive "$MUNGE_PID" munged || die "munged is not running; run: $0 up"
  alive "$CTLD_PID" slurmctld || die "slurmctld is not running; run: $0 up"
  alive "$SLURMD_PID" slurmd || die "slurmd is not running; run: $0 up"
  local id state i
  id=$(sbatch --parsable -J slurm-local-check -o /dev/null --wrap true) || die "sbatch failed"
  id=${id%%;*}
  for i in $(seq 1 $((TIMEOUT * 10))); do
    state=$(squeue -h -t all -j "$id" -o %T 2>/dev/null || true)
    case "$state" in
      COMPLETED) say "healthy: job $id completed on $(hostname -s)"; return 0 ;;
      FAILED | CANCELLED | TIMEOUT | NODE_FAIL | BOOT_FAIL | OUT_OF_MEMORY) die "health-check job $id ended $state" ;;
    esac
    sleep 0.1
  done
  scancel "$id" 2>/dev/null || true
  die "health-check job $id did not complete in ${TIMEOUT}s (last state: ${state:-unknown})"
}

up() {
  install_packages
  start_munge
  local changed=0
  write_conf && changed=1
  if [ "${SLURM_LOCAL_FRESH:-0}" = 1 ]; then
    stop_daemon "$SLURMD_PID" slurmd
    stop_daemon "$CTLD_PID" slurmctld
    say "wiping controller state"
    rm -rf "${CTLD_STATE:?}"/* "${SLURMD_SPOOL:?}"/*
  elif [ "$changed" = 1 ] && { alive "$CTLD_PID" slurmctld || alive "$SLURMD_PID" slurmd; }; then
    # Node definitions need a restart; running jobs survive it (state is saved on SIGTERM).
    say "configuration changed; restarting the daemons"
    stop_daemon "$SLURMD_PID" slurmd
    stop_daemon "$CTLD_PID" slurmctld
  fi
  start_slurm
  check
}

down() {
  if alive "$CTLD_PID" slurmctld; then
    # Stopping slurmd does not end running jobs (their slurmstepd stays): cancel them first.
    local ids i
    ids=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ' || true)
    if [ -n "${ids// /}" ]; then
      say "cancelling jobs: $ids"
      # shellcheck disable=SC2086
      scancel $ids 2>/dev/null || true
      for i in $(seq 1 150); do
        [ -z "$(squeue -h -t pending,running,completing,configuring,suspended -o %i 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  stop_daemon "$SLURMD_PID" slurmd
  stop_daemon "$CTLD_PID" slurmctld
  stop_daemon "$MUNGE_PID" munged
  say "down"
}

purge() {
  down
  rm -rf "${CTLD_STATE:?}"/* "${SLURMD_SPOOL:?}"/* "${LOG_DIR:?}"/*
  rm -f "$CONF"
  say "purged state, logs and $CONF"
}

status() {
  local d
  for d in "munged:$MUNGE_PID" "slurmctld:$CTLD_PID" "slurmd:$SLURMD_PID"; do
    if alive "${d#*:}" "${d%%:*}"; then echo "${d%%:*}: running (pid $(pid_of "${d#*:}"))"; else echo "${d%%:*}: stopped"; fi
  done
  if alive "$CTLD_PID" slurmctld; then
    sinfo 2>/dev/null || true
    squeue 2>/dev/null || true
  fi
}

case "${1:-up}" in
  up) up ;;
  check) check ;;
  status) status ;;
  down) down ;;
  purge) purge ;;
  *) echo "usage: $0 up|check|status|down|purge" >&2; exit 2 ;;
esac
