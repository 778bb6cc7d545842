// The pack in the real Node-RED editor, driven through Debian's Chromium as a user would: the palette lists
// every node, a dropped node's dialog marks invalid fields, a deploy shows the node's status, and the
// examples import from the main menu. Screenshots land in test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkPublishTopic } from '../../src/lib/mqtt/topic-rules';
import { deriveSettings } from '../../src/lib/mqtt/broker-config';
import { createFormatter } from '../../src/lib/formats/registry';
import type { FormatOptions } from '../../src/lib/formats/types';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { repoRoot, startNodeRed, type NodeRedProcess } from '../helpers/node-red-process';
import { launchChromium, openPage, type PageProblems } from './chromium';
import {
  deploy,
  dragFromPalette,
  hasClass,
  openEditor,
  openNodeDialog,
  paletteCategoryId,
  rawMessageKeys,
  readState,
  showOnlyPaletteCategory,
  typeInto,
  waitForInputError,
  waitForStatus,
  waitForTrayToSettle,
  waitUntil,
  workspaceNode,
  workspaceNodes,
} from './editor-ui';

const CATEGORY = 'secure telemetry';
const SCREENSHOTS = path.join(repoRoot, 'test-artifacts', 'screenshots');

interface PackageJson {
  name: string;
  'node-red': { nodes: Record<string, string> };
}
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
const TYPES = Object.keys(pkg['node-red'].nodes);
/** Type-name stems of the pack, to spot raw message keys such as "secure-mqtt-out.label.topic". */
const KEY_PREFIXES = ['secure-mqtt', 'telemetry-'];

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
}
function exampleFiles(): string[] {
  return fs
    .readdirSync(path.join(repoRoot, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

describe('the pack in the Node-RED editor (Chromium)', () => {
  let mosquitto: RunningMosquitto;
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  let problems: PageProblems;
  let publishId = '';

  async function shot(name: string): Promise<string> {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, name);
    await page.screenshot({ path: file });
    return file;
  }

  /** The category each of the pack's types registered in the editor (null: not registered). */
  async function editorCategories(): Promise<Record<string, string | null>> {
    const list = JSON.stringify(TYPES);
    return readState<Record<string, string | null>>(
      page,
      `Object.fromEntries(${list}.map((t) => [t, RED.nodes.getType(t) ? RED.nodes.getType(t).category : null]))`,
    );
  }

  before(async () => {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes')), 'dist/ is built (npm test builds it first)');
    mosquitto = await startMosquitto();
    red = await startNodeRed({
      // No Flow Library catalogue fetch: the editor must work on a closed network.
      extraSettings: { editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } } },
    });
    browser = await launchChromium();
    ({ page, problems } = await openPage(browser));
    await openEditor(page, red.url);
  });

  /**
   * A test that leaves a screenshot of the editor behind when it fails. Each step builds on the editor state the
   * previous ones left, so after a failure the later steps fail at once instead of waiting out their timeouts
   * (the runner's 180 s limit per file would otherwise kill the file before `after` stops Mosquitto).
   */
  let failed = '';
  function step(name: string, body: (t: TestContext) => Promise<void>): void {
    test(name, async (t) => {
      if (failed) throw new Error(`not run: the earlier step "${failed}" failed`);
      try {
        await body(t);
      } catch (err) {
        failed = name;
        const slug = name.replace(/[^\w]+/g, '-').slice(0, 60);
        await shot(`failure-${slug}.png`).catch(() => undefined);
        throw err;
      }
    });
  }

  after(async () => {
    await browser?.close();
    await red?.stop();
    await mosquitto?.stop();
  });

  step('the "secure telemetry" palette category lists every node type of package.json', async () => {
    const categories = await editorCategories();
    const missing = TYPES.filter((t) => categories[t] === null);
    assert.deepEqual(missing, [], `types not registered in the editor:\n${red.log()}`);
    const paletteTypes = TYPES.filter((t) => categories[t] !== 'config');
    for (const t of paletteTypes) assert.equal(categories[t], CATEGORY, `${t} is in the "${CATEGORY}" category`);
    assert.ok(
      TYPES.some((t) => categories[t] === 'config'),
      'the broker connection is a config node (not in the palette)',
    );

    const body = await showOnlyPaletteCategory(page, CATEGORY);
    const shown = await body.locator('.red-ui-palette-node').all();
    const shownTypes: string[] = [];
    for (const el of shown) {
      assert.ok(await el.isVisible());
      const type = (await el.getAttribute('data-palette-type')) ?? '';
      shownTypes.push(type);
      const label = ((await el.locator('.red-ui-palette-label').textContent()) ?? '').replace(/\s+/g, ' ').trim();
      assert.ok(label.length > 0, `${type} has a palette label`);
      assert.doesNotMatch(label, /^[\w-]+\.[\w.]+$/, `${type}'s palette label is not a raw message key`);
      // The icon shown is the pack's own file (Node-RED serves a default icon for a missing one).
      const icon = (await el.locator('.red-ui-palette-icon-container').getAttribute('data-palette-icon')) ?? '';
      assert.match(icon, new RegExp(`^icons/${pkg.name}/`), `${type} uses its own icon`);
      const res = await fetch(`${red.url}/${icon}`);
      assert.equal(res.status, 200, `${icon} is served`);
      const served = Buffer.from(await res.arrayBuffer());
      const jsDir = path.dirname(path.join(repoRoot, pkg['node-red'].nodes[type]));
      const file = path.join(jsDir, 'icons', path.basename(icon));
      assert.ok(fs.existsSync(file), `${file} exists`);
      assert.ok(served.equals(fs.readFileSync(file)), `${icon} is ${path.relative(repoRoot, file)}`);
    }
    assert.deepEqual([...shownTypes].sort(), [...paletteTypes].sort(), 'the category shows exactly the pack’s non-config nodes');
    assert.equal(await page.locator(`#red-ui-palette-container-${paletteCategoryId(CATEGORY)} .red-ui-palette-header`).textContent(), CATEGORY);

    const file = await shot('palette.png');
    assert.ok(fs.statSync(file).size > 10000, 'palette screenshot written');
  });

  step('every palette node: its dialog shows only translated texts, its help shows in the help sidebar', async () => {
    const categories = await editorCategories();
    const paletteTypes = TYPES.filter((t) => categories[t] !== 'config');
    const problems: string[] = [];
    const added: string[] = [];
    for (const [i, type] of paletteTypes.entries()) {
      const id = await dragFromPalette(page, type, 300, 60 + i * 50);
      added.push(id);
      await openNodeDialog(page, id);
      for (const k of await rawMessageKeys(page, '.red-ui-tray', KEY_PREFIXES)) problems.push(`${type} dialog shows the raw key "${k}"`);
      await page.locator('#node-dialog-cancel').click();
      await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });

      // Selecting the node shows its help in the help sidebar, titled with its palette name.
      const paletteLabel = (await page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`).getAttribute('data-palette-label')) ?? type;
      await workspaceNode(page, id).locator('rect.red-ui-flow-node').click();
      await page.locator('#red-ui-tab-help-link-button').click();
      const stack = page.locator('.red-ui-sidebar-help-stack');
      await stack.locator('h1.red-ui-help-title', { hasText: paletteLabel }).waitFor();
      const help = ((await stack.locator('.red-ui-help .red-ui-help').first().innerText()) ?? '').trim();
      if (help.length < 40) problems.push(`${type} help is missing or too short: "${help}"`);
      const rawKey = new RegExp(`(${KEY_PREFIXES.join('|')})[\\w-]*\\.[a-z][\\w]*\\.[\\w.]+`);
      if (rawKey.test(help)) problems.push(`${type} help shows a raw key: ${rawKey.exec(help)?.[0]}`);
    }
    assert.deepEqual(problems, []);
    // Leave an empty workspace for the next tests: select each added node and delete it.
    for (const id of added) {
      await workspaceNode(page, id).locator('rect.red-ui-flow-node').click();
      await page.keyboard.press('Delete');
      await workspaceNode(page, id).waitFor({ state: 'detached' });
    }
    assert.equal(await workspaceNodes(page).count(), 0);
    await page.locator('#red-ui-tab-info-link-button').click();
  });

  step('publish node: dropped on the workspace, its dialog marks invalid fields, deploy shows it connected', async () => {
    const before = await workspaceNodes(page).count();
    publishId = await dragFromPalette(page, 'secure-mqtt-out', 300, 160);
    assert.equal(await workspaceNodes(page).count(), before + 1);
    // No connection yet: the node is drawn with the "invalid properties" badge.
    assert.ok(await workspaceNode(page, publishId).locator('.red-ui-flow-node-error').isVisible());

    await openNodeDialog(page, publishId);
    assert.equal(await page.locator('.red-ui-tray-titlebar').last().textContent(), 'Edit publish node');
    assert.deepEqual(await rawMessageKeys(page, '.red-ui-tray', KEY_PREFIXES), [], 'every dialog text is translated');
    assert.ok(await hasClass(page.locator('#node-input-broker'), 'input-error'), 'the missing connection is marked');

    // A wildcard cannot be published to: the topic field is marked, then cleared when corrected.
    await typeInto(page, '#node-input-topic', 'a/#/b');
    await waitForInputError(page, '#node-input-topic', true);
    await typeInto(page, '#node-input-topic', 'browser/test');
    await waitForInputError(page, '#node-input-topic', false);

    // A new connection, from the dialog's "+" button.
    await page.locator('#node-input-btn-broker-add').click();
    await page.locator('#node-config-input-host').waitFor({ state: 'visible' });
    await waitForTrayToSettle(page);
    assert.deepEqual(await rawMessageKeys(page, '.red-ui-tray', KEY_PREFIXES), [], 'every connection dialog text is translated');
    // TLS settings (on the Security tab, not the one shown) are switched on only for the TLS transports.
    const tlsShown = async (): Promise<boolean> =>
      page.locator('.red-ui-tray .form-row.secure-mqtt-broker-tls').first().evaluate((el: unknown) => (el as { style: { display: string } }).style.display !== 'none');
    for (const [transport, shown] of [['mqtt', false], ['mqtts', true], ['ws', false], ['wss', true], ['mqtt', false]] as const) {
      await page.locator('#node-config-input-transport').selectOption(transport);
      await waitUntil(`TLS settings ${shown ? 'shown' : 'hidden'} for ${transport}`, async () => ((await tlsShown()) === shown ? true : undefined));
    }
    await typeInto(page, '#node-config-input-host', '127.0.0.1');
    await typeInto(page, '#node-config-input-port', '99999');
    await waitForInputError(page, '#node-config-input-port', true);
    await shot('dialog-secure-mqtt-broker.png');
    await typeInto(page, '#node-config-input-port', String(mosquitto.port));
    await waitForInputError(page, '#node-config-input-port', false);
    // MQTT 5 properties are judged by the version selected in the dialog (the field is on another tab).
    const setWillProps = (text: string): Promise<void> => page.evaluate(`$('#node-config-input-willProps').val(${JSON.stringify(text)}).trigger('change')`);
    await page.locator('#node-config-input-protocolVersion').selectOption('5');
    await setWillProps('{ not json');
    await waitForInputError(page, '#node-config-input-willProps', true);
    await page.locator('#node-config-input-protocolVersion').selectOption('4');
    await waitForInputError(page, '#node-config-input-willProps', false);
    await setWillProps('');
    await typeInto(page, '#node-config-input-name', 'browser test broker');
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-host').waitFor({ state: 'detached' });
    await waitForInputError(page, '#node-input-broker', false);
    assert.equal(await page.locator('#node-input-broker option:checked').textContent(), 'browser test broker');

    await typeInto(page, '#node-input-name', 'browser publish');
    await waitForTrayToSettle(page);
    await shot('dialog-secure-mqtt-out.png');
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-topic').waitFor({ state: 'detached' });

    const node = workspaceNode(page, publishId);
    assert.equal(await node.locator('.red-ui-flow-node-label').textContent(), 'browser publish');
    await waitUntil('the invalid badge to go', async () =>
      (await node.locator('.red-ui-flow-node-error').isVisible()) ? undefined : true,
    );

    await deploy(page);
    // Connected: a green dot and the count of messages sent.
    const status = await waitForStatus(page, publishId, (s) => /dot-green/.test(s.shape));
    assert.equal(status.text, 'sent 0');
    assert.match(mosquitto.log(), /New client connected/, 'the deployed node really connected to Mosquitto');

    // Deployed, the dialog checks the topic against the connection's access rules (none configured here).
    await openNodeDialog(page, publishId);
    const acl = page.locator('#secure-mqtt-out-acl-status');
    await waitUntil('the access-rule check in the dialog', async () =>
      /no access rules/.test((await acl.textContent()) ?? '') ? true : undefined,
    );
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-input-topic').waitFor({ state: 'detached' });

    // What was deployed is what the dialog said.
    const flows = (await red.api('GET', '/flows')).json as { flows: (FlowNode & Record<string, unknown>)[] };
    const deployed = flows.flows.find((n) => n.id === publishId);
    assert.ok(deployed);
    assert.equal(deployed.topic, 'browser/test');
    const broker = flows.flows.find((n) => n.id === deployed.broker);
    assert.ok(broker);
    assert.equal(broker.type, 'secure-mqtt-broker');
    assert.equal(broker.port, String(mosquitto.port));
  });

  step('sensor node: dialog marks a bad interval; the simulated sensor deploys and shows a reading', async () => {
    const id = await dragFromPalette(page, 'telemetry-sensor', 300, 280);
    await openNodeDialog(page, id);
    assert.deepEqual(await rawMessageKeys(page, '.red-ui-tray', KEY_PREFIXES), [], 'every dialog text is translated');
    // The address choices follow the sensor type; 1-Wire and GPIO sensors have no I2C address at all.
    const addresses = async (): Promise<string[]> => page.locator('#node-input-address option').evaluateAll((os: unknown[]) => os.map((o) => (o as { value: string }).value));
    await page.locator('#node-input-sensorType').selectOption('sht4x');
    assert.deepEqual(await addresses(), ['0x44', '0x45', '0x46']);
    await page.locator('#node-input-sensorType').selectOption('ads1115');
    assert.deepEqual(await addresses(), ['0x48', '0x49', '0x4a', '0x4b']);
    await page.locator('#node-input-sensorType').selectOption('ds18b20');
    await page.locator('#node-input-address').waitFor({ state: 'hidden' });
    await page.locator('#node-input-sensorType').selectOption('bme280');
    assert.deepEqual(await addresses(), ['0x76', '0x77']);
    await page.locator('#node-input-address').waitFor({ state: 'visible' });
    await page.locator('#node-input-backend').selectOption('simulated');
    await page.locator('.telemetry-sensor-sim-tip').waitFor({ state: 'visible' });
    await typeInto(page, '#node-input-interval', '-5');
    await waitForInputError(page, '#node-input-interval', true);
    await typeInto(page, '#node-input-interval', '1');
    await waitForInputError(page, '#node-input-interval', false);
    assert.deepEqual(await rawMessageKeys(page, '.red-ui-tray', KEY_PREFIXES), [], 'texts shown for the simulated backend are translated');
    await waitForTrayToSettle(page);
    await shot('dialog-telemetry-sensor.png');
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-sensorType').waitFor({ state: 'detached' });
    assert.equal(await workspaceNode(page, id).locator('.red-ui-flow-node-label').textContent(), 'BME280 @0x76 every 1 s (sim)');

    await deploy(page);
    const status = await waitForStatus(page, id, (s) => /dot-green/.test(s.shape) && /\d/.test(s.text));
    assert.match(status.text, /^-?\d+(\.\d+)? \S+$/, 'a reading such as "21.4 °C"');
    // The publish node deployed before keeps its connection.
    await waitForStatus(page, publishId, (s) => /dot-green/.test(s.shape) && /^sent \d+/.test(s.text));
  });

  step('Menu > Import > Examples lists every file of examples/; each imports with known, valid nodes', async () => {
    const files = exampleFiles();
    assert.ok(files.length > 0, 'the pack ships examples');
    const faults: string[] = [];
    const layout: string[] = [];
    for (const file of files) {
      const title = path.basename(file, '.json');
      await page.locator('#red-ui-header-button-sidemenu').click();
      await page.locator('#menu-item-import').click();
      await page.locator('#red-ui-clipboard-dialog-import-tabs').waitFor({ state: 'visible' });
      const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      // The dialog may still be opening: click the Examples tab until its content shows.
      await waitUntil('the Examples tab of the import dialog', async () => {
        if (await tree.isVisible()) return true;
        await page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples').click();
        return undefined;
      });
      await tree.locator('.red-ui-treeList-label', { hasText: pkg.name }).click();
      if (file === files[0]) {
        // Every file of examples/ is offered, named after the file.
        for (const f of files) {
          await tree.locator('.red-ui-treeList-label', { hasText: path.basename(f, '.json') }).waitFor({ state: 'visible' });
        }
        await shot('import-examples.png');
      }
      await tree.locator('.red-ui-treeList-label', { hasText: title }).click();
      const ok = page.locator('#red-ui-clipboard-dialog-ok');
      await waitUntil('the Import button to be enabled', async () => ((await ok.isEnabled()) ? true : undefined));
      await ok.click();
      await page.locator('#red-ui-clipboard-dialog-import-tabs').waitFor({ state: 'hidden' });

      const example = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', file), 'utf8')) as (FlowNode & { label?: string })[];
      const tab = example.find((n) => n.type === 'tab');
      assert.ok(tab, `${file} brings its own flow tab`);
      const flowNodes = example.filter((n) => n.z === tab.id);
      assert.ok(flowNodes.length > 0);
      // The example opens as a new flow tab; show it as a user would.
      const tabHandle = page.locator('#red-ui-workspace-tabs .red-ui-tab', { hasText: tab.label ?? '' });
      await tabHandle.click();
      await waitUntil(`the tab of ${file} to be active`, async () => ((await hasClass(tabHandle, 'active')) ? true : undefined));
      await waitUntil(`the ${flowNodes.length} nodes of ${file} on the workspace`, async () =>
        (await workspaceNodes(page).count()) === flowNodes.length ? true : undefined,
      );
      const shownTypes = await readState<string[]>(page, 'RED.nodes.filterNodes({ z: RED.workspaces.active() }).map((n) => n.type)');
      assert.deepEqual(shownTypes.sort(), flowNodes.map((n) => n.type).sort(), `${file}: the nodes shown are the example's`);
      for (const n of flowNodes.filter((x) => x.name)) {
        await page.locator('#red-ui-workspace-chart .red-ui-flow-node-label', { hasText: n.name }).first().waitFor();
      }
      const unknown = await page.locator('#red-ui-workspace-chart rect.red-ui-flow-node-unknown').count();
      if (unknown > 0) faults.push(`${file}: ${unknown} node(s) of unknown type`);
      for (const n of flowNodes) {
        if (await workspaceNode(page, n.id).locator('.red-ui-flow-node-error').isVisible()) {
          const why = await readState<string[]>(page, `RED.nodes.node(${JSON.stringify(n.id)}).validationErrors || []`);
          faults.push(`${file}: ${n.type} "${n.name ?? n.id}" is marked invalid (${why.join(', ')})`);
        }
      }
      // Layout as drawn: no overlapping nodes, none cut off at the left edge.
      const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
      const boxes: { label: string; x: number; y: number; w: number; h: number }[] = [];
      for (const n of flowNodes) {
        const box = await workspaceNode(page, n.id).locator('rect.red-ui-flow-node').boundingBox();
        const label = ((await workspaceNode(page, n.id).locator('.red-ui-flow-node-label').textContent()) ?? n.type).trim();
        if (box) boxes.push({ label, x: box.x, y: box.y, w: box.width, h: box.height });
      }
      for (const [i, a] of boxes.entries()) {
        if (chart && a.x < chart.x) layout.push(`${file}: "${a.label}" starts ${Math.round(chart.x - a.x)} px left of the workspace`);
        for (const b of boxes.slice(i + 1)) {
          if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) {
            layout.push(`${file}: "${a.label}" overlaps "${b.label}"`);
          }
        }
      }

      // One picture per example, once the editor's notifications are closed (a click closes one).
      await waitUntil('the notifications to close', async () => {
        const open = await page.locator('.red-ui-notification:visible').all();
        for (const n of open) await n.click({ timeout: 2000 }).catch(() => undefined);
        return open.length === 0 ? true : undefined;
      });
      await shot(`example-${title}.png`);
    }
    assert.deepEqual(faults, [], 'every example imports with known, valid nodes');
    assert.deepEqual(layout, [], 'examples are laid out without overlaps');
    assert.deepEqual(problems.errors, [], 'no uncaught exception in the editor');
    assert.deepEqual(
      // acl-check answers 404 while the connection is not deployed yet (the dialog then says "Deploy ...").
      problems.requests.filter((r) => !/^404 .*\/secure-telemetry\/acl-check\?/.test(r)),
      [],
      'no failed request and nothing fetched from outside 127.0.0.1',
    );
  });

  /** Deploys `flows` through the admin API and reloads the editor until `nodeId` is on the workspace. */
  async function deployAndReload(flows: object[], nodeId: string): Promise<void> {
    const res = await red.api('POST', '/flows', { flows });
    assert.equal(res.status, 200, res.text);
    // The palette keeps only the pack's category open: wait for the node, not the palette.
    await page.goto(red.url);
    await workspaceNode(page, nodeId).waitFor();
    await waitUntil('the editor to finish loading', async () => ((await page.locator('#red-ui-loading-progress').isVisible()) ? undefined : true));
  }

  step("the connection's and the format node's field checks accept what the runtime accepts, and only that", async () => {
    // The editor's own validate functions, run in the page, against the runtime's verdict on the same values.
    const editorSays = (type: string, field: string, node: Record<string, unknown>, value: string): Promise<boolean> =>
      readState<boolean>(page, `RED.nodes.getType(${JSON.stringify(type)}).defaults[${JSON.stringify(field)}].validate.call(${JSON.stringify(node)}, ${JSON.stringify(value)})`);
    const deep = Array.from({ length: 201 }, () => 'a').join('/');
    const willCases: Array<[string, string, string]> = [
      ['5', 'dev/will', '{"willDelayInterval":5,"userProperties":{"a":"b"},"contentType":"text/plain"}'],
      ['5', 'dev/will', '{"userProperties":{"a":1}}'],
      ['5', 'dev/will', '{"messageExpiryInterval":1.5}'],
      ['5', 'dev/will', '{"willDelayInterval":-1}'],
      ['5', 'dev/will', '[1]'],
      ['5', 'dev/will', '{bad'],
      ['4', 'dev/will', '{bad'],
      ['4', 'dev/\u0001will', ''],
      ['4', 'dev/\u0085will', ''],
      ['4', 'dev/+', ''],
      ['4', deep, ''],
      ['4', deep.slice(2), ''],
    ];
    for (const [protocolVersion, willTopic, willProps] of willCases) {
      const runtime = deriveSettings({ host: 'h', protocolVersion, willTopic, willProps }, {}, 'id', undefined).problems.length === 0;
      const editor =
        (await editorSays('secure-mqtt-broker', 'willTopic', { protocolVersion }, willTopic)) &&
        (await editorSays('secure-mqtt-broker', 'willProps', { protocolVersion }, willProps));
      assert.equal(editor, runtime, `v${protocolVersion} will topic ${JSON.stringify(willTopic.slice(0, 20))} properties ${willProps}: editor ${editor}, runtime ${runtime}`);
    }
    for (const topic of ['plant/line1', 'plant/\ufffe', 'plant/\ufdd0x', 'plant/\u{1ffff}', 'plant/\ud800x', 'plant/\u{1f600}', 'plant/+', 'a'.repeat(65536), '\u00e9'.repeat(40000), '\u00e9'.repeat(32767), deep, deep.slice(2)]) {
      const runtime = checkPublishTopic(topic) === undefined;
      const editor = await editorSays('secure-mqtt-out', 'topic', {}, topic);
      assert.equal(editor, runtime, `publish topic ${JSON.stringify(topic.slice(0, 20))}: editor ${editor}, runtime ${runtime}`);
    }
    const formatCases: FormatOptions[] = [
      { format: 'azure', topic: 'telemetry/x', device: 'd' },
      { format: 'azure', topic: '', device: 'd' },
      { format: 'json', topic: 'telemetry/{device}', device: 'd' },
      { format: 'sparkplug', spGroup: 'g', spEdgeNode: '', device: '' },
      { format: 'sparkplug', spGroup: 'g', spEdgeNode: '', device: 'pi' },
      { format: 'sparkplug', spGroup: 'g', spEdgeNode: 'edge', device: '' },
      { format: 'influx', influxMeasurement: 'env' },
      { format: 'influx', influxMeasurement: ' #env' },
      { format: 'influx', influxMeasurement: '_env' },
      { format: 'influx', influxMeasurement: 'a\nb' },
    ];
    for (const o of formatCases) {
      const runtime = createFormatter(o).ok;
      const node = { ...o, deviceType: 'str' };
      const fields = { topic: o.topic, device: o.device, spGroup: o.spGroup, spEdgeNode: o.spEdgeNode, influxMeasurement: o.influxMeasurement };
      let editor = true;
      for (const [field, value] of Object.entries(fields)) editor &&= await editorSays('telemetry-format', field, node, value ?? '');
      assert.equal(editor, runtime, `format ${JSON.stringify(o)}: editor ${editor}, runtime ${runtime}`);
    }
  });

  step('publish dialog: with access rules on the connection, it says whether the typed topic is allowed', async () => {
    const flows = [
      { id: 'acl-tab', type: 'tab', label: 'acl check' },
      {
        id: 'acl-broker', type: 'secure-mqtt-broker', name: 'ruled broker', host: '127.0.0.1', port: String(mosquitto.port),
        aclSource: 'acl-inline', aclText: 'topic write plant/#\ntopic deny plant/secret\n', aclIdentity: 'credentials',
      },
      { id: 'acl-pub', type: 'secure-mqtt-out', z: 'acl-tab', name: 'ruled publish', broker: 'acl-broker', topic: 'plant/line1', x: 300, y: 100, wires: [[], []] },
    ];
    await deployAndReload(flows, 'acl-pub');
    await openNodeDialog(page, 'acl-pub');
    const acl = page.locator('#secure-mqtt-out-acl-status');
    const says = async (re: RegExp, what: string): Promise<void> =>
      void (await waitUntil(what, async () => (re.test((await acl.textContent()) ?? '') ? true : undefined)));
    await says(/^✔ allowed by the broker's rules: .*plant\/#/, 'allowed for plant/line1');
    await typeInto(page, '#node-input-topic', 'plant/secret');
    await says(/^✖ the broker would refuse this topic: .*deny plant\/secret/, 'denied for plant/secret');
    await typeInto(page, '#node-input-topic', 'office/door');
    await says(/^✖ the broker would refuse this topic: no rule matched/, 'denied where no rule matches');
    await typeInto(page, '#node-input-topic', 'plant/+');
    await says(/^✖ not a valid topic: .*wildcard/i, "the server's reason for an invalid topic");
    await shot('dialog-secure-mqtt-out-acl.png');
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-input-topic').waitFor({ state: 'detached' });
  });

  step('dialogs judge fields against what is selected in them, not what was saved (format, sensor, reduce)', async () => {
    const flows = [
      { id: 'live-tab', type: 'tab', label: 'live validation' },
      { id: 'live-format', type: 'telemetry-format', z: 'live-tab', format: 'azure', topic: '', device: 'd', x: 200, y: 80, wires: [[], []] },
      { id: 'live-sensor', type: 'telemetry-sensor', z: 'live-tab', sensorType: 'bme280', address: '0x76', backend: 'simulated', interval: '10', x: 200, y: 160, wires: [[]] },
      { id: 'live-reduce', type: 'telemetry-reduce', z: 'live-tab', mode: 'deadband', band: '0.5', windowSize: '', x: 200, y: 240, wires: [[], []] },
    ];
    await deployAndReload(flows, 'live-format');

    await openNodeDialog(page, 'live-format');
    await page.locator('#node-input-format').selectOption('json');
    await typeInto(page, '#node-input-topic', 'a/{device}');
    await waitForInputError(page, '#node-input-topic', false); // saved as Azure, where any topic is refused
    await page.locator('#node-input-format').selectOption('sparkplug');
    await waitForInputError(page, '#node-input-spGroup', true); // no group id yet
    await page.locator('#node-input-format').selectOption('json');
    await page.locator('#node-input-qos').selectOption('2');
    await page.locator('#node-input-format').selectOption('aws');
    assert.equal(await page.locator('#node-input-qos').inputValue(), '1', 'QoS 2, which AWS IoT Core refuses, is not kept');
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-input-format').waitFor({ state: 'detached' });

    await openNodeDialog(page, 'live-sensor');
    await page.locator('#node-input-sensorType').selectOption('bh1750');
    await waitForInputError(page, '#node-input-address', false); // 0x23 is a BH1750 address, not a BME280 one
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-input-sensorType').waitFor({ state: 'detached' });

    await openNodeDialog(page, 'live-reduce');
    await page.locator('#node-input-mode').selectOption('window');
    await waitForInputError(page, '#node-input-windowSize', true); // a window needs a size; a deadband does not
    await page.locator('#node-input-mode').selectOption('deadband');
    await waitForInputError(page, '#node-input-windowSize', false);
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-input-mode').waitFor({ state: 'detached' });
  });
});
