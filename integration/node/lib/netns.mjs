// A test host with an address of its own (the node side of
// integration/netns_host.py): a network namespace joined by a veth pair,
// so a server in it is reached over a real private address, never over
// loopback (which the SSRF rules keep unreachable by design). Needs root.
import { spawn, spawnSync } from 'node:child_process';

let counter = 0;

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

export function netnsAvailable() {
  if (process.getuid() !== 0) return false;
  const probe = `mbnprobe${process.pid}`;
  const ok = spawnSync('ip', ['netns', 'add', probe]).status === 0;
  if (ok) spawnSync('ip', ['netns', 'del', probe]);
  return ok;
}

export function netnsHost(tag = 'n') {
  const n = counter++;
  const pid = process.pid;
  const slot = (pid * 7 + n + 5000) % (250 * 64);
  const a = Math.floor(slot / 64), b = slot % 64;
  const host = {
    ns: `mb${tag}${pid}_${n}`,
    hostIf: `mbnh${pid % 100000}${n}`.slice(0, 15),
    peerIf: `mbnp${pid % 100000}${n}`.slice(0, 15),
    gateway: `10.214.${a}.${b * 4 + 1}`,
    address: `10.214.${a}.${b * 4 + 2}`,
    procs: [],
    spawn(argv, opts = {}) {
      const p = spawn('ip', ['netns', 'exec', host.ns, ...argv], { detached: true, ...opts });
      host.procs.push(p);
      return p;
    },
    kill(p) {
      try { process.kill(-p.pid, 'SIGKILL'); } catch {}
    },
    close() {
      for (const p of host.procs) host.kill(p);
      spawnSync('ip', ['link', 'del', host.hostIf]);
      spawnSync('ip', ['netns', 'del', host.ns]);
    },
  };
  ip('netns', 'add', host.ns);
  try {
    ip('link', 'add', host.hostIf, 'type', 'veth', 'peer', 'name', host.peerIf);
    ip('link', 'set', host.peerIf, 'netns', host.ns);
    ip('addr', 'add', `${host.gateway}/30`, 'dev', host.hostIf);
    ip('link', 'set', host.hostIf, 'up');
    ip('-n', host.ns, 'addr', 'add', `${host.address}/30`, 'dev', host.peerIf);
    ip('-n', host.ns, 'link', 'set', host.peerIf, 'up');
    ip('-n', host.ns, 'link', 'set', 'lo', 'up');
  } catch (e) {
    host.close();
    throw e;
  }
  return host;
}
