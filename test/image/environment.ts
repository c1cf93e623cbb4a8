/**
 * What the image suite needs from the machine, checked up front so a missing piece fails
 * with one clear sentence instead of a confusing error halfway through. Not being root is a
 * failure, never a silent skip: CI must not report a green run that built nothing.
 */
import { spawnSync } from 'node:child_process';

const TOOLS: Array<{ command: string; args: string[]; install: string }> = [
  { command: 'buildah', args: ['--version'], install: 'apt-get install -y buildah' },
  { command: 'skopeo', args: ['--version'], install: 'apt-get install -y skopeo' },
  { command: 'containerd', args: ['--version'], install: 'apt-get install -y containerd' },
  { command: 'ctr', args: ['--version'], install: 'apt-get install -y containerd' },
  { command: 'runc', args: ['--version'], install: 'apt-get install -y runc' },
];

export function imageSuiteProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push(
      'the image suite must run as root: containerd, runc and buildah\'s chroot isolation need it ' +
        '(run it with sudo: sudo -E scripts/test-image.sh, or npm test as root in CI)',
    );
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    problems.push(`the image suite needs linux/x64 (the stand-in base is made from this machine's Node.js); this is ${process.platform}/${process.arch}`);
  }
  for (const tool of TOOLS) {
    const r = spawnSync(tool.command, tool.args, { stdio: 'ignore' });
    if (r.error || r.status !== 0) problems.push(`${tool.command} is missing or broken: ${tool.install} (or scripts/install-tools.sh apt)`);
  }
  return problems;
}
