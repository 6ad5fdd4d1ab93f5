// Builds a legacy group node in the real frontend: the group-name prompt is a
// Vue dialog, answered through the page like a person would.
const { chromium } = require('playwright-core');
const fs = require('fs');
const out = process.argv[2] || 'out';
fs.mkdirSync(out, { recursive: true });
(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--no-first-run'] });
  const page = await browser.newPage();
  await page.goto('http://127.0.0.1:8188/', { waitUntil: 'networkidle' });
  await page.waitForFunction(() => window.app && window.app.graph, null, { timeout: 60000 });
  const CASE = process.argv[3] || 'group_node';
  await page.evaluate((c) => { window.__case = c; }, CASE);
  await page.evaluate(() => {
    const app = window.app; const LG = window.LiteGraph;
    app.graph.clear();
    const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
    const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
    const CASE = window.__case;
    const img = add('EmptyImage', 0);
    set(img, 'width', 56); set(img, 'height', 40); set(img, 'color', 0x55aa33);
    const noise = add('ImageAddNoise', 300);
    set(noise, 'seed', 11); set(noise, 'strength', 0.3);
    const cag = noise.widgets.find(w => w.name === 'control_after_generate'); if (cag) cag.value = 'fixed';
    const blur = add('ImageBlur', 600);
    set(blur, 'blur_radius', 2);
    const save = add('SaveImage', 900);
    set(save, 'filename_prefix', 'grouped');
    img.connect(0, noise, 0); noise.connect(0, blur, 0);
    app.canvas.deselectAll();
    if (CASE === 'group_node_names') {
      // Two nodes with inputs of the same names: the group node renames them.
      const scale = add('ImageScale', 750);
      set(scale, 'upscale_method', 'bilinear'); set(scale, 'width', 30); set(scale, 'height', 20); set(scale, 'crop', 'disabled');
      blur.connect(0, scale, 0); scale.connect(0, save, 0);
      app.canvas.select(img); app.canvas.select(noise); app.canvas.select(scale);
    } else {
      blur.connect(0, save, 0);
      app.canvas.select(noise); app.canvas.select(blur);
    }
    window.__done = app.extensionManager.command.execute('Comfy.GroupNode.ConvertSelectedNodesToGroupNode');
  });
  const input = page.locator('.p-dialog input').first();
  await input.waitFor({ timeout: 10000 });
  await input.fill(CASE === 'group_node' ? 'Noisy Blur' : 'Canvas and Scale');
  await input.press('Enter');
  await page.waitForTimeout(1000);
  const res = await page.evaluate(async () => {
    const app = window.app;
    const ui = app.graph.serialize();
    const p = await app.graphToPrompt();
    return { ui, api: p.output, embedded: p.workflow, log: app.graph.nodes.map(n => n.id + ':' + n.type).join(',') };
  });
  fs.writeFileSync(`${out}/${CASE}.ui.json`, JSON.stringify(res.ui, null, 2));
  fs.writeFileSync(`${out}/${CASE}.api.json`, JSON.stringify(res.api, null, 2));
  fs.writeFileSync(`${out}/${CASE}.embedded.json`, JSON.stringify(res.embedded, null, 2));
  console.log(CASE, res.log);
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
