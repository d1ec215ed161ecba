#!/usr/bin/env node
// `npm start`: the meter simulator plus Node-RED with this package and a demo flow, in .node-red-demo/ (git-ignored).
// Demo only: no admin login, credentials stored unencrypted (they are the simulator's public demo secrets).
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');

const root = path.join(__dirname, '..');
const userDir = path.join(root, '.node-red-demo');
const editorPort = Number(process.env.PORT || 1880);

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The demo flow: readings every 5 s to the debug sidebar, and disconnect/reconnect buttons. */
function demoFlow(meterPort) {
  const z = 'demo-tab';
  return [
    { id: z, type: 'tab', label: 'DLMS demo', info: 'Reads the simulated meter every 5 s; the buttons drive its disconnect control.' },
    { id: 'demo-meter', type: 'dlms-meter', name: 'simulated meter', host: '127.0.0.1', port: meterPort, clientAddress: 18, authentication: 'high', responseTimeout: 5000 },
    { id: 'demo-inject', type: 'inject', z, name: 'every 5 s', props: [{ p: 'payload' }], repeat: '5', once: true, onceDelay: '1', payload: '', payloadType: 'date', x: 130, y: 80, wires: [['demo-read']] },
    {
      id: 'demo-read', type: 'dlms-read', z, name: '', meter: 'demo-meter', output: 'single', x: 340, y: 80, wires: [['demo-debug']],
      targets: [{ obis: '1.0.1.8.0.255' }, { obis: '1.0.32.7.0.255' }, { obis: '1.0.1.7.0.255' }, { obis: '0.0.1.0.0.255' }],
    },
    // Each reading with its unit ("12345.6 Wh"; the clock has none), the OBIS code above it as the message topic.
    {
      id: 'demo-debug', type: 'debug', z, name: 'readings', active: true, tosidebar: true, complete: '$string(payload) & ($exists(dlms.unit) ? " " & dlms.unit : "")', targetType: 'jsonata',
      statusVal: '', statusType: 'auto', x: 560, y: 80, wires: [],
    },
    { id: 'demo-off', type: 'inject', z, name: 'disconnect', props: [], repeat: '', once: false, x: 130, y: 200, wires: [['demo-disconnect']] },
    { id: 'demo-on', type: 'inject', z, name: 'reconnect', props: [], repeat: '', once: false, x: 130, y: 280, wires: [['demo-reconnect']] },
    { id: 'demo-disconnect', type: 'dlms-action', z, name: '', meter: 'demo-meter', target: '0.0.96.3.10.255:1', parametersFrom: 'none', x: 390, y: 200, wires: [['demo-state']] },
    { id: 'demo-reconnect', type: 'dlms-action', z, name: '', meter: 'demo-meter', target: '0.0.96.3.10.255:2', parametersFrom: 'none', x: 390, y: 280, wires: [['demo-state']] },
    { id: 'demo-state', type: 'dlms-read', z, name: 'output state', meter: 'demo-meter', output: 'all', targets: [{ obis: '0.0.96.3.10.255', attribute: 2 }, { obis: '0.0.96.3.10.255', attribute: 3 }], x: 700, y: 240, wires: [['demo-debug2']] },
    { id: 'demo-debug2', type: 'debug', z, name: 'disconnect control', active: true, tosidebar: true, complete: 'payload', targetType: 'msg', x: 930, y: 240, wires: [] },
  ];
}

function linkPackage() {
  const modules = path.join(userDir, 'node_modules');
  fs.mkdirSync(modules, { recursive: true });
  const link = path.join(modules, 'node-red-contrib-dlms');
  try {
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    // nothing there
  }
  fs.symlinkSync(root, link, process.platform === 'win32' ? 'junction' : 'dir');
}

function writeSettings() {
  const settings = `module.exports = {
  uiPort: ${editorPort},
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  // Demo: the simulator's public demo secrets, stored unencrypted. Never do this with real keys.
  credentialSecret: false,
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false, projects: { enabled: false } },
  // No phone-home from a local demo, and no consent dialog over the demo flow on first open.
  telemetry: { enabled: false, updateNotification: false },
};
`;
  fs.writeFileSync(path.join(userDir, 'settings.js'), settings);
}

function writeFlows(meterPort) {
  const flowFile = path.join(userDir, 'flows.json');
  let flows;
  if (fs.existsSync(flowFile)) {
    // Keep the user's edits; only point the demo meter at this run's simulator.
    try {
      flows = JSON.parse(fs.readFileSync(flowFile, 'utf8'));
      for (const n of flows) if (n.id === 'demo-meter') n.port = meterPort;
    } catch {
      flows = undefined;
    }
  }
  fs.writeFileSync(flowFile, JSON.stringify(flows || demoFlow(meterPort), null, 2));
  const credFile = path.join(userDir, 'flows_cred.json');
  let creds = {};
  try {
    creds = JSON.parse(fs.readFileSync(credFile, 'utf8'));
  } catch {
    // first run
  }
  if (!creds['demo-meter']) creds['demo-meter'] = { password: 'Gurux' };
  fs.writeFileSync(credFile, JSON.stringify(creds, null, 2));
}

async function main() {
  const serverModule = path.join(root, 'dist', 'lib', 'server', 'index.js');
  if (!fs.existsSync(serverModule) || !fs.existsSync(path.join(root, 'dist', 'nodes', 'dlms-meter.html'))) fail('dist/ is missing: run `npm run build` first');
  let red;
  try {
    red = require.resolve('node-red/red.js', { paths: [root] });
  } catch {
    fail('node-red is not installed: run `npm install` (it is a devDependency)');
  }
  if (!(await portFree(editorPort))) fail(`port ${editorPort} is taken: stop what uses it or run PORT=1881 npm start`);
  const { startSimulator } = require(serverModule);
  const meterPort = (await portFree(4059)) ? 4059 : 0;
  const sim = await startSimulator({ port: meterPort, host: '127.0.0.1', framing: 'wrapper' });
  console.log(`simulator: wrapper over TCP on 127.0.0.1:${sim.port} (client 18, HLS, password "Gurux"; client 16 public)`);
  fs.mkdirSync(userDir, { recursive: true });
  linkPackage();
  writeSettings();
  writeFlows(sim.port);
  const child = spawn(process.execPath, [red, '-u', userDir, '-s', path.join(userDir, 'settings.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let announced = false;
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (!announced && /Server now running|Started flows/.test(String(chunk))) {
      announced = true;
      console.log(`\n  Node-RED editor: http://127.0.0.1:${editorPort}/  (demo flow "DLMS demo"; readings in the debug sidebar)\n`);
    }
  });
  const stop = () => {
    child.kill('SIGINT');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
  // npm does not pass a SIGTERM on to its script: when npm (and the shell under it) are gone, stop too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000).unref();
  // When npm itself is stopped, Node-RED may go first: whatever ends it, the demo ends with it (the simulator gets
  // two seconds to close its sockets).
  child.on('exit', (code) => {
    setTimeout(() => process.exit(code ?? 0), 2000).unref();
    sim.close().finally(() => process.exit(code ?? 0));
  });
}

module.exports = { demoFlow };

if (require.main === module) main().catch((e) => fail(e && e.message ? e.message : String(e)));
