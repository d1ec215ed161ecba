/**
 * The editor as a user sees it: a real Node-RED with the package, its editor in headless Chromium (puppeteer-core).
 * The browser is the system's Chromium (CHROMIUM_PATH, else /usr/bin/chromium; .ci/run installs it). Without one the
 * tests skip and say so, unless DLMS_BROWSER_TESTS=1 (CI), where a missing browser fails. Screenshots go to a
 * temporary folder, or to DLMS_SCREENSHOTS_DIR (docs/images to refresh the README's).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { startSimulator, type Simulator } from '../../lib/server/simulator';
import { RealNodeRed } from './real-red';
import { projectRoot } from './red-helper';

function chromiumPath(): string | undefined {
  const candidates = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => !!p && fs.existsSync(p));
}

// The screenshots land in a temporary folder; DLMS_SCREENSHOTS_DIR=docs/images refreshes the ones the README shows.
const images = process.env['DLMS_SCREENSHOTS_DIR'] ? path.resolve(projectRoot(), process.env['DLMS_SCREENSHOTS_DIR']) : path.join(os.tmpdir(), 'dlms-editor-screenshots');

describe('the editor in a headless browser', function () {
  this.timeout(90000);
  let red: RealNodeRed | undefined;
  let sim: Simulator | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;

  before(async function () {
    const executablePath = chromiumPath();
    if (!executablePath) {
      if (process.env['DLMS_BROWSER_TESTS'] === '1') throw new Error('DLMS_BROWSER_TESTS=1 but no Chromium found (set CHROMIUM_PATH or install chromium)');
      console.log('    (skipped: no Chromium found; install chromium or set CHROMIUM_PATH to run the editor tests)');
      this.skip();
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const puppeteer = require('puppeteer-core') as typeof import('puppeteer-core');
    sim = await startSimulator({ port: 0, host: '127.0.0.1', framing: 'wrapper' });
    red = await RealNodeRed.start();
    browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    // The editor takes its language from localStorage (else the browser's): ?lang=xx sets it per page load.
    await page.evaluateOnNewDocument("{ const l = new URLSearchParams(location.search).get('lang'); if (l) localStorage.setItem('editor-language', l); }");
  });

  after(async function () {
    await browser?.close();
    await red?.stop();
    await sim?.close();
  });

  async function openEditor(lang: string): Promise<Page> {
    const p = page!;
    await p.goto(`${red!.base}/?lang=${lang}`, { waitUntil: 'networkidle2' });
    await p.waitForFunction("window.RED && RED.nodes && RED.nodes.getType('dlms-meter') && document.querySelector('#red-ui-palette')");
    return p;
  }

  async function openMeterDialog(p: Page): Promise<void> {
    await p.evaluate("RED.editor.editConfig('', 'dlms-meter', '_ADD_')");
    await p.waitForSelector('#dlms-meter-tabs li.red-ui-tab', { visible: true });
    await p.waitForSelector('#node-config-input-preset', { visible: true });
  }

  it('opens the meter dialog with the preset on the first tab and the field explanations visible', async function () {
    const p = await openEditor('en-US');
    await openMeterDialog(p);
    // Browser-side code as text: the test project compiles without the DOM types.
    const seen = (await p.evaluate(`(() => {
      const tabs = Array.from(document.querySelectorAll('#dlms-meter-tabs li.red-ui-tab')).map((li) => li.textContent.trim());
      const firstTab = document.querySelector('#dlms-meter-tabs-content > div');
      const preset = document.querySelector('#node-config-input-preset');
      const rows = Array.from(firstTab.querySelectorAll('.form-row')).filter((r) => r.offsetParent !== null);
      const hint = document.querySelector('.dlms-meter-hint.dlms-row-host');
      return {
        tabs,
        firstTabId: firstTab.id,
        presetOnFirstTab: firstTab.contains(preset),
        firstRowsIds: rows.slice(0, 2).map((r) => r.querySelector('input,select').id),
        hintVisible: hint.offsetParent !== null && hint.getBoundingClientRect().height > 0,
        hintText: hint.textContent,
        hostLabel: document.querySelector('label[for="node-config-input-host"]').textContent,
        presetChoice: preset.querySelector('option[value="lgz-e650"]').textContent,
      };
    })()`)) as { tabs: string[]; firstTabId: string; presetOnFirstTab: boolean; firstRowsIds: string[]; hintVisible: boolean; hintText: string; hostLabel: string; presetChoice: string };
    assert.deepEqual(seen.tabs, ['Link', 'Addresses', 'Security', 'Advanced']);
    assert.equal(seen.firstTabId, 'dlms-meter-tab-link');
    assert.ok(seen.presetOnFirstTab, 'the preset is on the first tab');
    assert.deepEqual(seen.firstRowsIds, ['node-config-input-name', 'node-config-input-preset']);
    assert.ok(seen.hintVisible, 'the explanation under Host is visible');
    assert.equal(seen.hintText, 'Host name or IP address of the meter or gateway.');
    assert.equal(seen.hostLabel, 'Host');
    assert.equal(seen.presetChoice, 'lgz-e650 (Landis+Gyr E650)');
    fs.mkdirSync(images, { recursive: true });
    const tray = await p.$('.red-ui-tray');
    await (tray ?? p).screenshot({ path: path.join(images, 'editor-meter-dialog.png') });

    // The Security tab: the headings of the sections in use only.
    await p.click('#dlms-meter-tabs li:nth-child(3) a');
    await p.select('#node-config-input-authentication', 'high-gmac');
    await p.select('#node-config-input-security', 'auth-enc');
    const headings = (await p.evaluate(`$('#dlms-meter-tab-security .dlms-meter-section:visible').map(function () { return $(this).text(); }).get()`)) as string[];
    assert.deepEqual(headings, ['Login', 'Ciphering', 'Signatures (suites 1 and 2)', 'Envelope and key transport', 'Many meters (msg.meter)']);
    await (tray ?? p).screenshot({ path: path.join(images, 'editor-meter-security.png') });
    await p.click('#dlms-meter-tabs li:nth-child(1) a');

    // A host of spaces is no host: the field is marked invalid.
    await p.type('#node-config-input-host', '   ');
    await p.evaluate("$('#node-config-input-host').trigger('change')");
    await p.waitForSelector('#node-config-input-host.input-error');
  });

  it('browses the objects of a meter that is not deployed yet, grouped by class and filtered, from the read dialog', async function () {
    const p = await openEditor('en-US');
    const flow = [
      { id: 'bm1', type: 'dlms-meter', name: 'simulator', host: '127.0.0.1', port: sim!.port, clientAddress: 16, authentication: 'none' },
      { id: 'br1', type: 'dlms-read', meter: 'bm1', targets: [{ obis: '1.0.99.1.0.255', classId: 7, access: 'range', hours: 24 }, { obis: '1.0.1.8.0.255' }], x: 200, y: 100 },
    ];
    await p.evaluate(`RED.view.importNodes(${JSON.stringify(flow)}, { notify: false }); RED.editor.edit(RED.nodes.node('br1'))`);
    await p.waitForSelector('#dlms-read-browse', { visible: true });
    const rows = (await p.evaluate(`$('#node-input-targets-list').editableList('items').map(function () {
      return $(this).find('.dlms-profile').css('display') !== 'none';
    }).get()`)) as boolean[];
    assert.deepEqual(rows, [true, false], 'profile settings on the profile row only');
    assert.equal(await p.evaluate(`$('#node-input-output option:selected').text()`), 'one message per object');
    const header = (await p.evaluate(`$('.dlms-read-columns').text()`)) as string;
    assert.match(header, /OBIS code.*Attr.*Class.*Profile rows/);
    // Clicked through the DOM: a mouse click at the button's coordinates misses while the edit tray still slides in
    // (under load it did, and the browse never started).
    await p.evaluate("document.getElementById('dlms-read-browse').click()");
    // The list, or the editor's notification of why there is none (a failure then says what the meter answered).
    // A failing browse answers only after the link's own connect timeout and request deadline (~31 s): wait longer.
    await p.waitForSelector('#dlms-read-objects optgroup, .red-ui-notification', { visible: true, timeout: 60000 });
    assert.equal(await p.evaluate(`$('.red-ui-notification').text()`), '', 'the editor notified a failure instead of listing objects');
    const groups = (await p.evaluate(`$('#dlms-read-objects optgroup').map(function () { return this.label; }).get()`)) as string[];
    assert.ok(groups.some((g) => /^3 · Register \(\d+\)$/.test(g)), groups.join(', '));
    assert.ok(groups.some((g) => /^8 · Clock \(1\)$/.test(g)), groups.join(', '));
    await p.type('#dlms-read-filter', 'clock');
    const filtered = (await p.evaluate(`$('#dlms-read-objects option').map(function () { return $(this).text(); }).get()`)) as string[];
    assert.ok(filtered.length >= 1 && filtered.every((t) => /clock/i.test(t) || /0\.0\.1\.0\.0\.255/.test(t)), filtered.join(' | '));
    await p.click('#dlms-read-filter', { count: 3 });
    await p.keyboard.press('Backspace');
    await p.type('#dlms-read-filter', '1.8.0');
    const tray = await p.$('.red-ui-tray');
    await (tray ?? p).screenshot({ path: path.join(images, 'editor-read-dialog.png') });
  });

  it('shows the dialog in German', async function () {
    const p = await openEditor('de');
    await openMeterDialog(p);
    const seen = (await p.evaluate(`({
      tabs: Array.from(document.querySelectorAll('#dlms-meter-tabs li.red-ui-tab')).map((li) => li.textContent.trim()),
      preset: document.querySelector('label[for="node-config-input-preset"]').textContent,
    })`)) as { tabs: string[]; preset: string };
    assert.deepEqual(seen.tabs, ['Verbindung', 'Adressen', 'Sicherheit', 'Erweitert']);
    assert.equal(seen.preset, 'Voreinstellung');
    const tray = await p.$('.red-ui-tray');
    await (tray ?? p).screenshot({ path: path.join(images, 'editor-meter-dialog-de.png') });
    // The flow nodes' dialogs too: dlms-listen in German.
    await p.evaluate(`RED.tray.close(); RED.view.importNodes([{ id: 'bl1', type: 'dlms-listen', source: 'tcp', port: 4059, x: 300, y: 200 }], { notify: false })`);
    await p.evaluate(`RED.editor.edit(RED.nodes.node('bl1'))`);
    await p.waitForSelector('#node-input-source', { visible: true });
    const listen = (await p.evaluate(`({
      source: $('label[for="node-input-source"]').text().trim(),
      tcp: $('#node-input-source option[value="tcp"]').text(),
    })`)) as { source: string; tcp: string };
    assert.deepEqual(listen, { source: 'Quelle', tcp: 'TCP-Port (Zähler verbinden sich zu uns)' });
  });
});
