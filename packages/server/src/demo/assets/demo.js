// The --demo page: settings, the drop zone and file picker, one row per file, and the
// unfinished uploads the resume store (IndexedDB, else localStorage) remembers.
import { Announcer } from './announcer.js';
import { UploadRow } from './row.js';
import { openBrowserStore } from './tus-s3-client.min.js';
import { renderUnfinished } from './unfinished.js';

const $ = (id) => document.getElementById(id);

async function endpointDefault() {
  const fromQuery = new URLSearchParams(location.search).get('endpoint');
  if (fromQuery) return fromQuery;
  const config = await (await fetch('/demo/config.json')).json();
  return new URL(config.endpoint, location.href).href;
}

/** Settings from the form; ?parallel= and ?chunk= preset them. */
function initSettings(endpoint) {
  const q = new URLSearchParams(location.search);
  $('endpoint').value = endpoint;
  for (const id of ['parallel', 'chunk']) {
    const v = q.get(id);
    if (v && [...$(id).options].some((opt) => opt.value === v)) $(id).value = v;
  }
  const shown = () => {
    $('endpoint-shown').textContent = $('endpoint').value;
  };
  $('endpoint').addEventListener('input', shown);
  shown();
  return () => ({
    endpoint: $('endpoint').value,
    parallel: Number($('parallel').value),
    chunkSize: $('chunk').value === 'auto' ? 'auto' : Number($('chunk').value),
  });
}

function initDrop(onFiles) {
  const drop = $('drop');
  const input = $('file');
  input.addEventListener('change', () => {
    onFiles([...input.files]);
    input.value = ''; // the same file can be chosen again
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    onFiles([...(e.dataTransfer?.files ?? [])]);
  });
}

async function main() {
  const { store, kind, fallbackReason } = await openBrowserStore();
  $('store-note').textContent =
    kind === 'indexeddb'
      ? 'Resume store: IndexedDB (this browser, this site).'
      : `Resume store: localStorage (${fallbackReason}).`;
  const settings = initSettings(await endpointDefault());
  const announcer = new Announcer($('announcer'));
  const active = new Set();
  let renders = 0;
  const refresh = () => {
    const mine = ++renders;
    return renderUnfinished({
      store,
      section: $('unfinished-section'),
      list: $('unfinished'),
      active,
      onChange: refresh,
      current: () => mine === renders,
    }).catch((e) => {
      $('unfinished-help').textContent = `Could not read the resume store: ${e.message}`;
    });
  };
  const onUrls = (urls) => {
    const before = active.size;
    for (const u of urls) active.add(u);
    if (active.size !== before) refresh();
  };
  initDrop((files) => {
    for (const file of files) {
      const row = new UploadRow(file, { settings, store, announcer, onUrls });
      $('uploads').append(row.li);
      $('uploads-empty').hidden = true;
      row.start();
    }
    announcer.say(`${files.length} file${files.length === 1 ? '' : 's'} added`);
  });
  await refresh();
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  $('store-note').textContent = `The page could not start: ${e.message}`;
});
