/**
 * A simulator for the scale bench, in a child process of its own (its own file descriptors and event loop). argv[2]:
 * JSON { clients, maxConnections }. Prints {"port":N} once listening; on each "stats" line on stdin, prints its
 * memory (after a collection) and CPU time; exits when stdin ends.
 */
import * as readline from 'node:readline';
import type { MeterOptions } from '../lib/client/options';
import { startSimulator } from '../lib/server/simulator';

interface Config {
  clients: MeterOptions[];
  maxConnections: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as Config;
  const sim = await startSimulator({
    port: 0,
    host: '127.0.0.1',
    framing: 'wrapper',
    clients: config.clients,
    maxConnections: config.maxConnections,
    countersPerConnection: true,
  });
  process.stdout.write(`${JSON.stringify({ port: sim.port })}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() !== 'stats') return;
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, connections: sim.activeConnections, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  });
  lines.on('close', () => {
    void sim.close().then(() => process.exit(0));
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`scale simulator failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
