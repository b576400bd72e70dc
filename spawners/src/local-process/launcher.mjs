// The local-process spawner's launcher: a small Node process, forked once by the hub, that starts
// server processes on the hub's behalf. Starting a process forks the caller, and a fork costs time
// in proportion to the caller's memory, during which the caller's event loop stands still: a hub of
// a few hundred MB spends ~20 ms per start, a launcher of ~40 MB a few. The launcher is their parent,
// so it also reaps them and reports when they exit.
//
// Plain JavaScript on purpose: it runs without the TypeScript loader, to stay small.
// Messages in:  { id, cmd, args, cwd, env, logFile }
// Messages out: { id, pid, startTime } | { id, error } | { exited: pid }
import { spawn } from 'node:child_process'
import { closeSync, fchmodSync, fstatSync, openSync, readFileSync } from 'node:fs'

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return ''
  }
}

// Once the hub is gone there is nobody to tell (and the launcher is on its way out).
const send = (msg) => {
  if (process.connected) process.send(msg, () => {})
}

function start(m) {
  let fd
  try {
    // the server's output is for the hub and the operator, not for other users of the machine
    fd = openSync(m.logFile, 'a', 0o600)
    // only a log file of its own: never a device or pipe it was pointed at (/dev/null is everyone's)
    if (fstatSync(fd).isFile()) fchmodSync(fd, 0o600)
    const child = spawn(m.cmd, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ['ignore', fd, fd] })
    // The child is at worst a zombie here (it is reaped on a later turn of the loop), so its start
    // time can still be read.
    child.once('spawn', () => send({ id: m.id, pid: child.pid, startTime: startTime(child.pid) }))
    child.once('error', (err) => send({ id: m.id, error: `failed to start ${m.cmd}: ${err.message}` }))
    child.once('exit', () => send({ exited: child.pid }))
  } catch (err) {
    send({ id: m.id, error: `failed to start ${m.cmd}: ${err instanceof Error ? err.message : String(err)}` })
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

process.on('message', start)
// The hub decides when servers start and stop; a signal meant for the hub's process group (Ctrl-C)
// must not take the launcher down while the hub finishes what it is doing. It ends with the hub.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => {})
process.on('disconnect', () => process.exit(0))
