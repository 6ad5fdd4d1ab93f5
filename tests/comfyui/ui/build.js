// Builds UI-format workflows in the real ComfyUI frontend, saves them with the
// frontend's own serialize() and exports them with its own graphToPrompt().
const { chromium } = require('playwright-core');
const fs = require('fs');
const out = process.argv[2] || 'out';
fs.mkdirSync(out, { recursive: true });
(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'] });
  const page = await browser.newPage();
  await page.goto('http://127.0.0.1:8188/', { waitUntil: 'networkidle' });
  await page.waitForFunction(() => window.app && window.app.graph, null, { timeout: 60000 });
  const cases = require('./cases.js');
  for (const [name, fn] of Object.entries(cases)) {
    const res = await page.evaluate(async (src) => {
      const app = window.app; const LG = window.LiteGraph;
      app.graph.clear();
      const build = eval('(' + src + ')');
      const log = await build(app, LG);
      app.graph.setDirtyCanvas(true, true);
      const ui = app.graph.serialize();
      const p = await app.graphToPrompt();
      return { ui, api: p.output, embedded: p.workflow, log };
    }, fn.toString());
    fs.writeFileSync(`${out}/${name}.ui.json`, JSON.stringify(res.ui, null, 2));
    fs.writeFileSync(`${out}/${name}.api.json`, JSON.stringify(res.api, null, 2));
    fs.writeFileSync(`${out}/${name}.embedded.json`, JSON.stringify(res.embedded, null, 2));
    console.log(name, 'nodes', res.ui.nodes.length, 'api', Object.keys(res.api).length, res.log || '');
  }
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
