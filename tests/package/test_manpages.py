#!/usr/bin/python3
"""test_manpages.py - the man pages say what the binaries' --help says.

    test_manpages.py --tgctl TGCTL --trackgate TRACKGATE --man DIR

Every command and option `tgctl --help` lists is a tag in tgctl(8)'s COMMANDS
or OPTIONS section, and every tag there is in `tgctl --help`; the same for
tgctl's exit codes and EXIT STATUS, and for trackgate's options after `--`
(`trackgate -- --help`) and trackgate(8)'s OPTIONS.  `trackgate --help` (the
EAL's usage) must end with trackgate's.  Each page also renders without a
warning from man(1), as lintian renders it.  A command or option added to one
side only fails this test, so the pages cannot drift from the code.
"""
import argparse
import os
import re
import subprocess
import sys

# An option token: --long-name or -x, not the inside of a hyphenated word.
OPT = re.compile(r'(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])')


def run_help(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    if p.returncode != 0:
        sys.exit('%s: exit %d\n%s' % (' '.join(argv), p.returncode, p.stderr))
    return p.stdout


def parse_help(text):
    """Commands, options and exit codes a usage text lists.

    A listed item is a line indented by exactly two spaces: its first column
    (up to two spaces or the end) is an option list, or in the `commands:`
    block a command and its arguments.  Continuation lines are indented
    further and ignored; so is prose (`Ports are all DPDK devices ...`)."""
    commands, options, codes = set(), set(), set()
    block = None
    for line in text.splitlines():
        if re.match(r'^\S', line):
            block = line.split(':')[0].strip()
            if block == 'exit codes':
                codes |= set(re.findall(r'(?:^|[:,])\s*(\d+) ', line))
            continue
        if block == 'exit codes':
            codes |= set(re.findall(r'(?:^|[:,])\s*(\d+) ', line))
            continue
        m = re.match(r'^  (\S.*?)(?: {2,}|$)', line)
        if not m:
            continue
        col = m.group(1)
        if block == 'commands' and not col.startswith('-'):
            commands.add(col.split()[0])
        options |= set(OPT.findall(col))
    return commands, options, codes


def roff_text(line):
    """The text of one roff line: macro names, font escapes and quotes off."""
    line = re.sub(r'^\.(B|I|BI|IB|BR|RB|IR|RI)\s+', '', line)
    line = line.replace('\\-', '-').replace('\\c', '').replace('\\&', '')
    line = re.sub(r'\\f[BIRP]', '', line)
    return line.replace('"', '')


def parse_man(path):
    """Tags (the line after .TP) of each section, as plain text."""
    sections = {}
    section = None
    lines = open(path, encoding='utf-8').read().splitlines()
    for i, line in enumerate(lines):
        if line.startswith('.SH '):
            section = line[4:].strip().strip('"')
            sections.setdefault(section, [])
        elif line.startswith('.TP') and section and i + 1 < len(lines):
            sections[section].append(roff_text(lines[i + 1]))
    return sections


def man_items(sections):
    commands, options, codes = set(), set(), set()
    for tag in sections.get('COMMANDS', []):
        commands.add(tag.split()[0])
        options |= set(OPT.findall(tag))
    for tag in sections.get('OPTIONS', []):
        options |= set(OPT.findall(tag))
    for tag in sections.get('EXIT STATUS', []):
        codes.add(tag.split()[0])
    return commands, options, codes


def compare(page, what, in_help, in_man, fails):
    for x in sorted(in_help - in_man):
        fails.append('%s: %s %s is in --help but not in the page' % (page, what, x))
    for x in sorted(in_man - in_help):
        fails.append('%s: %s %s is in the page but not in --help' % (page, what, x))
    print('%s: %d %s%s' % (page, len(in_help & in_man), what,
                           ' (all agree)' if in_help == in_man else ''))


def man_warnings(path):
    """What man(1) warns about when it renders the page (as lintian does)."""
    env = dict(os.environ, LC_ALL='C.UTF-8', MANROFFSEQ='', MANWIDTH='80')
    p = subprocess.run(['man', '--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z', path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       universal_newlines=True, env=env, timeout=60)
    return p.stderr.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tgctl', required=True)
    ap.add_argument('--trackgate', required=True)
    ap.add_argument('--man', required=True, help='the directory of tgctl.8 and trackgate.8')
    a = ap.parse_args()
    fails = []

    page = os.path.join(a.man, 'tgctl.8')
    h_cmd, h_opt, h_codes = parse_help(run_help([a.tgctl, '--help']))
    m_cmd, m_opt, m_codes = man_items(parse_man(page))
    if not h_cmd or not h_opt or not h_codes:
        fails.append('tgctl --help: found no commands, options or exit codes: format changed?')
    compare('tgctl.8', 'commands', h_cmd, m_cmd, fails)
    compare('tgctl.8', 'options', h_opt, m_opt, fails)
    compare('tgctl.8', 'exit codes', h_codes, m_codes, fails)

    page = os.path.join(a.man, 'trackgate.8')
    own = run_help([a.trackgate, '--', '--help'])
    eal = run_help([a.trackgate, '--help'])
    if not eal.rstrip().endswith(own.rstrip()):
        fails.append('trackgate --help does not end with the text of trackgate -- --help')
    _, h_opt, _ = parse_help(own)
    _, m_opt, _ = man_items(parse_man(page))
    if not h_opt:
        fails.append('trackgate -- --help: found no options: format changed?')
    compare('trackgate.8', 'options', h_opt, m_opt, fails)

    for name in ('tgctl.8', 'trackgate.8'):
        w = man_warnings(os.path.join(a.man, name))
        if w:
            fails.append('%s: man --warnings:\n%s' % (name, w))

    for f in fails:
        print('FAIL: ' + f)
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
