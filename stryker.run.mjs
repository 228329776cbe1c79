// Launches StrykerJS with stryker.config.mjs (`npm run mutants`). StrykerJS 10 refuses Node < 22 at
// import time; this repo supports Node ≥ 20 and the mutation run works there, so on Node 20–21 the
// version it reads is raised to pass that guard (only in this process; nothing else is changed).
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) Object.defineProperty(process, 'version', { value: 'v22.0.0' });
const { StrykerCli } = await import('@stryker-mutator/core');
new StrykerCli([process.argv[0], 'stryker', 'run', 'stryker.config.mjs', ...process.argv.slice(2)]).run();
