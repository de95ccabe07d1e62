// Thin shim for the Node remote-plugin host: the plugin is the compiled TypeScript in dist/.
// Without a build, register one command that says so instead of silently registering nothing.
let entry;
try {
  entry = require('../../../dist/plugin/index.js');
} catch (err) {
  entry = (plugin) => {
    plugin.registerCommand('ClaudeCode', async () => {
      await plugin.nvim.errWriteLine(
        'claude-worktrees is not built: run `npm ci && npm run build` in the plugin directory, then :UpdateRemotePlugins (' +
          String(err && err.message) + ')');
    }, {});
  };
}
module.exports = entry;
