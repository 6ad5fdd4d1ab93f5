// Workflows built in the real frontend: each returns a note for the log.
const helpers = `
  const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
  const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
`;
module.exports = {
  basic: async (app, LG) => {
    const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
    const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
    const img = add('EmptyImage', 0);
    set(img, 'width', 96); set(img, 'height', 64); set(img, 'color', 0x3366cc);
    const inv = add('ImageInvert', 300);
    const save = add('SaveImage', 600);
    set(save, 'filename_prefix', 'basic');
    img.connect(0, inv, 0); inv.connect(0, save, 0);
    return 'ok';
  },
  reroute_primitive_bypass: async (app, LG) => {
    const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
    const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
    const img = add('EmptyImage', 0);
    set(img, 'height', 40); set(img, 'batch_size', 2); set(img, 'color', 0xcc6633);
    const prim = add('PrimitiveNode', -300);
    const wslot = img.inputs.findIndex(i => i.name === 'width');
    prim.connect(0, img, wslot);
    prim.widgets[0].value = 72;
    prim.applyToGraph && prim.applyToGraph();
    const rr = add('Reroute', 250);
    img.connect(0, rr, 0);
    const noise = add('ImageAddNoise', 400);
    set(noise, 'seed', 7); set(noise, 'strength', 0.25);
    const cag = noise.widgets.find(w => w.name === 'control_after_generate'); if (cag) cag.value = 'fixed';
    rr.connect(0, noise, 0);
    const blur = add('ImageBlur', 700);
    noise.connect(0, blur, 0);
    blur.mode = 4; // bypassed
    const inv = add('ImageInvert', 1000);
    blur.connect(0, inv, 0);
    const save = add('SaveImage', 1300);
    set(save, 'filename_prefix', 'rpb');
    inv.connect(0, save, 0);
    const muted = add('PreviewImage', 1300, 400);
    inv.connect(0, muted, 0);
    muted.mode = 2; // muted
    const note = add('Note', 0, 500); note.widgets[0].value = 'a note is dropped';
    return 'cag=' + (cag ? cag.value : 'none');
  },
  link_reroutes: async (app, LG) => {
    const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
    const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
    const img = add('EmptyImage', 0);
    set(img, 'width', 48); set(img, 'height', 48); set(img, 'color', 0x22aa44);
    const save = add('SaveImage', 700);
    set(save, 'filename_prefix', 'reroutes');
    const link = img.connect(0, save, 0);
    const r1 = app.graph.createReroute([300, 200], link);
    const r2 = app.graph.createReroute([500, 200], r1);
    return 'reroutes=' + app.graph.reroutes.size;
  },
  subgraph: async (app, LG) => {
    const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
    const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
    const img = add('EmptyImage', 0);
    set(img, 'width', 64); set(img, 'height', 32); set(img, 'color', 0x8844cc);
    const inv = add('ImageInvert', 300);
    const blur = add('ImageBlur', 600);
    set(blur, 'blur_radius', 3);
    const save = add('SaveImage', 900);
    set(save, 'filename_prefix', 'subgraph');
    img.connect(0, inv, 0); inv.connect(0, blur, 0); blur.connect(0, save, 0);
    const res = app.graph.convertToSubgraph(new Set([inv, blur]));
    return 'subgraph node ' + (res && res.node ? res.node.id + ' ' + res.node.type : JSON.stringify(Object.keys(res || {})));
  },
  load_image: async (app, LG) => {
    const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
    const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
    const load = add('LoadImage', 0);
    set(load, 'image', 'example.png');
    const scale = add('ImageScale', 300);
    set(scale, 'upscale_method', 'bilinear'); set(scale, 'width', 40); set(scale, 'height', 30); set(scale, 'crop', 'center');
    const save = add('SaveImage', 600);
    set(save, 'filename_prefix', 'loaded');
    load.connect(0, scale, 0); scale.connect(0, save, 0);
    return 'widgets ' + load.widgets.map(w => w.name + (w.options && w.options.serialize === false ? '(noser)' : '')).join(',');
  },
  video: async (app, LG) => {
    const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
    const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
    const img = add('EmptyImage', 0);
    set(img, 'width', 64); set(img, 'height', 48); set(img, 'batch_size', 12); set(img, 'color', 0x4466aa);
    const noise = add('ImageAddNoise', 300);
    set(noise, 'seed', 3); set(noise, 'strength', 0.5);
    const cv = add('CreateVideo', 600);
    set(cv, 'fps', 8);
    const sv = add('SaveVideo', 900);
    set(sv, 'filename_prefix', 'video/clip'); set(sv, 'format', 'mp4'); set(sv, 'codec', 'h264');
    img.connect(0, noise, 0); noise.connect(0, cv, 0); cv.connect(0, sv, 0);
    return 'widgets ' + sv.widgets.map(w => w.name).join(',');
  },
  subgraph_widget: async (app, LG) => {
    const add = (t, x, y) => { const n = LG.createNode(t); n.pos = [x, y || 100]; app.graph.add(n); return n; };
    const set = (n, name, v) => { n.widgets.find(w => w.name === name).value = v; };
    const img = add('EmptyImage', 0);
    set(img, 'width', 40); set(img, 'height', 40); set(img, 'color', 0x11ee99);
    const blur = add('ImageBlur', 300);
    const save = add('SaveImage', 600);
    set(save, 'filename_prefix', 'sgw');
    img.connect(0, blur, 0); blur.connect(0, save, 0);
    const res = app.graph.convertToSubgraph(new Set([blur]));
    const sg = res.subgraph; const inner = sg.nodes[0];
    sg.addInput('radius', 'INT');
    const slot = sg.inputs.length - 1;
    sg.inputNode.connectByType(slot, inner, 'INT');
    const sgn = res.node;
    const w = (sgn.widgets || []).find(w => w.name === 'radius');
    if (w) w.value = 5;
    return 'promoted ' + (sgn.widgets || []).map(w => w.name + '=' + w.value).join(',') + ' inputs ' + sgn.inputs.map(i => i.name).join(',');
  },
};
