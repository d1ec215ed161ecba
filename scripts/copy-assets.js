// Copies what Node-RED loads beside each compiled node file: the editor HTML, locales and icons.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const out = path.join(root, 'dist', 'nodes');

function copyTree(from, to, filter) {
  if (!fs.existsSync(from)) return;
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst, filter);
    else if (filter(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, dst);
    }
  }
}

copyTree(path.join(root, 'nodes'), out, (name) => name.endsWith('.html') || name.endsWith('.json'));
copyTree(path.join(root, 'icons'), path.join(out, 'icons'), (name) => /\.(svg|png)$/.test(name));

// The meter editor and its English explanations come from the option schema (compiled by tsc just before).
require('./meter-editor').build();
