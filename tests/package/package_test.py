#!/usr/bin/python3
"""The Debian package as a lab gets it (CTest `package.deb`, label `package`; issue 22, docs/install.md).

Builds the package with scripts/package (a release build of the installed programs and the firmware, then
CPack), then checks it without installing it on this machine:
  - control: name, version, the conffiles (/etc/rig/rig.yaml, /etc/rig/subjects.yaml), the maintainer scripts,
    Recommends avrdude;
  - Depends is exactly what the programs load: every shared library a program needs (ELF NEEDED) belongs to a
    package in Depends, and every package in Depends but adduser provides one of them;
  - contents: the programs, the firmware, the dashboard with uPlot (and nothing else of npm's), the examples,
    the JSON Schemas, the manual pages, the unit and the udev rule;
  - lintian reports no error; the unit passes `systemd-analyze verify` and its sandbox `systemd-analyze security`
    (exposure at most 3.0 of 10);
  - unpacked into a temporary root: `rig --version`, `rig check` on the examples and on the /etc files,
    each installed YAML file's `$schema` modeline names its kind's installed schema (what the installed rig
    writes) and validates against it, rig-simavr's default firmware is the installed one, the installed rigd
    serves the installed dashboard, and
    the installed `rig run` records a 20-trial simulated session with its installed config (seed 7).

  package_test.py --source DIR --work DIR [--deb FILE]
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

import jsonschema

# The YAML 1.2 reading and the schema's kinds of the schema test (tests/host/config/json_schema_test.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "host", "config"))
import json_schema_test as schema_test  # noqa: E402

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)
    return condition


def run(args, **kwargs):
    kwargs.setdefault("check", True)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(args, **kwargs)


def project_version(source):
    text = open(os.path.join(source, "CMakeLists.txt")).read()
    return re.search(r"project\(rig VERSION ([0-9.]+)", text).group(1)


def needed_libraries(elf):
    out = run(["objdump", "-p", elf]).stdout
    return re.findall(r"^\s+NEEDED\s+(\S+)$", out, re.M)


def package_of_library(soname):
    # The library as the dynamic loader finds it, then the package that installed that file.
    cache = run(["ldconfig", "-p"]).stdout
    match = re.search(rf"^\s+{re.escape(soname)} \(libc6,x86-64[^)]*\) => (\S+)$", cache, re.M)
    if not match:
        return None
    path = os.path.realpath(match.group(1))
    for candidate in (path, match.group(1), path.replace("/usr/lib/", "/lib/", 1), path.replace("/lib/", "/usr/lib/", 1)):
        owner = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if owner.returncode == 0:
            return owner.stdout.split(":")[0].strip()
    return None


def names_of(package):
    """The package's name and the virtual packages it provides (a Depends on either is met by it)."""
    provides = run(["dpkg-query", "-W", "-f", "${Provides}", package]).stdout
    return {package} | depends_names(provides)


def depends_names(field):
    return {re.split(r"[ (]", alternative.strip())[0] for alternative in field.split(",") if alternative.strip()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--deb")
    args = parser.parse_args()
    version = project_version(args.source)

    deb = args.deb
    if not deb:
        built = run([os.path.join(args.source, "scripts", "package")], capture_output=True)
        deb = built.stdout.strip().splitlines()[-1]
    print(f"package: {deb}")
    check(os.path.basename(deb) == f"rig_{version}_amd64.deb", f"package file name {os.path.basename(deb)}")

    # Control fields and files.
    fields = {name: run(["dpkg-deb", "-f", deb, name]).stdout.strip() for name in
              ("Package", "Version", "Architecture", "Depends", "Recommends", "Section", "Maintainer")}
    check(fields["Package"] == "rig", f"Package: {fields['Package']}")
    check(fields["Version"] == version, f"Version: {fields['Version']} (project {version})")
    check(fields["Recommends"] == "avrdude", f"Recommends: {fields['Recommends']}")
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    check(conffiles == ["/etc/rig/rig.yaml", "/etc/rig/subjects.yaml"], f"conffiles: {conffiles}")
    control = run(["dpkg-deb", "-I", deb]).stdout
    for script in ("postinst", "prerm", "postrm"):
        check(re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*\s+{script}\s", control, re.M), f"{script} missing or not executable")

    # Contents.
    listing = run(["dpkg-deb", "-c", deb]).stdout
    paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    expected = ["/usr/bin/rig", "/usr/bin/rigd", "/usr/bin/rig-vmcu", "/usr/bin/rig-simavr",
                "/usr/lib/rig/firmware/rig-firmware.hex", "/usr/lib/rig/firmware/rig-firmware.elf",
                "/usr/lib/rig/firmware/rig-firmware-simavr.elf",
                "/usr/share/rig/web/index.html", "/usr/share/rig/web/app.js", "/usr/share/rig/web/lab/index.html",
                "/usr/share/rig/web/node_modules/uplot/dist/uPlot.iife.min.js",
                "/usr/share/rig/web/node_modules/uplot/dist/uPlot.min.css",
                "/usr/share/rig/protocols/distractor.yaml", "/usr/share/doc/rig/examples/protocols/distractor.yaml",
                "/usr/share/doc/rig/examples/config/rig.sim.yaml", "/usr/share/doc/rig/install.md",
                "/usr/share/doc/rig/copyright", "/usr/share/doc/rig/changelog.gz",
                "/etc/rig/rig.yaml", "/etc/rig/subjects.yaml", "/usr/share/rig/schema/protocol.schema.json",
                "/usr/share/rig/schema/rig.schema.json", "/usr/share/rig/schema/subjects.schema.json",
                "/lib/systemd/system/rigd.service", "/lib/udev/rules.d/99-rig.rules",
                "/usr/share/man/man1/rig.1.gz", "/usr/share/man/man1/rigd.1.gz", "/usr/share/man/man1/rig-vmcu.1.gz",
                "/usr/share/man/man1/rig-simavr.1.gz"]
    for path in expected:
        check(path in paths, f"{path} is not in the package")
    npm = [p for p in paths if "node_modules" in p and not p.endswith("/")
           and not re.search(r"/uplot/(dist/uPlot\.(iife\.min\.js|min\.css)|LICENSE)$", p)]
    check(not npm, f"npm files besides uPlot's two: {npm}")

    # lintian: no error (warnings such as no-manual-page are reported, not failed on).
    lint = run(["lintian", "--fail-on", "error", deb], check=False)
    print(lint.stdout.strip())
    check(lint.returncode == 0, f"lintian found errors:\n{lint.stdout}{lint.stderr}")
    check("no-manual-page" not in lint.stdout, "lintian: a program has no manual page")

    root = tempfile.mkdtemp(prefix="rig-package-", dir=args.work)
    try:
        run(["dpkg-deb", "-x", deb, root])
        bin_dir = os.path.join(root, "usr", "bin")

        # Depends: exactly the packages of the libraries the programs load, and adduser.
        needed = {}
        for program in ("rig", "rigd", "rig-vmcu", "rig-simavr"):
            for soname in needed_libraries(os.path.join(bin_dir, program)):
                needed.setdefault(soname, package_of_library(soname))
        depends = depends_names(fields["Depends"])
        met = set()
        for soname, package in sorted(needed.items()):
            if not check(package is not None, f"{soname}: no Debian package provides it"):
                continue
            names = names_of(package)
            met |= names
            check(names & depends, f"{soname} ({package}) is loaded but not in Depends: {fields['Depends']}")
        extra = depends - met - {"adduser"}
        check(not extra, f"Depends names packages no program loads: {sorted(extra)}")

        # The unit: systemd's own checks, on a copy whose programs point into the unpacked root.
        unit = open(os.path.join(root, "lib", "systemd", "system", "rigd.service")).read()
        check("ExecStart=/usr/bin/rigd --config /etc/rig/rig.yaml" in unit, "the unit does not run /usr/bin/rigd with /etc/rig/rig.yaml")
        for directive in ("User=rig", "SupplementaryGroups=dialout", "ProtectSystem=strict", "PrivateTmp=yes",
                          "NoNewPrivileges=yes", "ReadWritePaths=/var/lib/rig"):
            check(re.search(rf"^{re.escape(directive)}$", unit, re.M), f"the unit lacks {directive}")
        unit_dir = os.path.join(root, "unit-check")
        os.makedirs(unit_dir)
        with open(os.path.join(unit_dir, "rigd.service"), "w") as f:
            f.write(unit.replace("/usr/bin/rigd", os.path.join(bin_dir, "rigd")))
        verify = run(["systemd-analyze", "verify", os.path.join(unit_dir, "rigd.service")], check=False)
        check(verify.returncode == 0 and not verify.stderr.strip(), f"systemd-analyze verify: {verify.stderr}")
        security = run(["systemd-analyze", "security", "--offline=yes", os.path.join(unit_dir, "rigd.service")], check=False)
        exposure = re.search(r"Overall exposure level for rigd\.service: ([0-9.]+)", security.stdout)
        check(exposure and float(exposure.group(1)) <= 3.0,
              f"systemd-analyze security: {exposure.group(1) if exposure else security.stdout + security.stderr}")
        udev = open(os.path.join(root, "lib", "udev", "rules.d", "99-rig.rules")).read()
        check(udev.count('SYMLINK+="rig-mega"') == 2, "the udev rule does not name both Mega 2560 ids rig-mega")

        # The unpacked programs.
        env = dict(os.environ, HOME=os.path.join(root, "home"))
        env.pop("RIG_CONFIG", None)
        env.pop("RIG_MONITOR_WEB_DIR", None)
        os.makedirs(env["HOME"])
        out = run([os.path.join(bin_dir, "rig"), "--version"], env=env).stdout.strip()
        check(out == f"rig {version}", f"rig --version printed {out!r}")
        examples = os.path.join(root, "usr", "share", "doc", "rig", "examples")
        files = sorted(os.path.join(d, f) for d, _, names in os.walk(examples) for f in names)
        files += [os.path.join(root, "etc", "rig", "rig.yaml"), os.path.join(root, "etc", "rig", "subjects.yaml")]
        checked = run([os.path.join(bin_dir, "rig"), "check", *files], env=env, check=False)
        check(checked.returncode == 0, f"rig check on the installed examples: {checked.stdout}{checked.stderr}")
        check(checked.stdout.count(": ok (") == len(files), f"rig check did not pass every file:\n{checked.stdout}")
        # Editor support: each installed YAML file's modeline names its kind's installed schema, which is what
        # the installed rig writes, and the file validates against it.
        installed_yaml = files + sorted(glob.glob(os.path.join(root, "usr", "share", "rig", "protocols", "*.yaml")))
        for path in installed_yaml:
            document = schema_test.load_yaml(path)
            kind = schema_test.kind_of(document)
            modeline = schema_test.MODELINE.match(open(path).read())
            if not check(modeline, f"{path}: no `# yaml-language-server: $schema=` first line"):
                continue
            schema_path = os.path.normpath(os.path.join(os.path.dirname(path), modeline.group(1)))
            expected_schema = os.path.join(root, "usr", "share", "rig", "schema", f"{kind}.schema.json")
            if not check(schema_path == expected_schema, f"{path}: its modeline points at {schema_path}, not {expected_schema}"):
                continue
            schema = json.load(open(schema_path))
            validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.draft7_format_checker)
            errors = [e.message for e in validator.iter_errors(document)]
            check(not errors, f"{path} does not validate against {schema_path}: {errors}")
        for kind in schema_test.KINDS:
            written = run([os.path.join(bin_dir, "rig"), "schema", kind], env=env).stdout
            installed = open(os.path.join(root, "usr", "share", "rig", "schema", f"{kind}.schema.json")).read()
            check(written == installed, f"/usr/share/rig/schema/{kind}.schema.json is not what the installed rig writes")
        print(f"{len(installed_yaml)} installed YAML files name their schema and validate against it")

        simavr_help = run([os.path.join(bin_dir, "rig-simavr"), "--help"], env=env).stdout
        check(os.path.join(root, "usr", "lib", "rig", "firmware", "rig-firmware-simavr.elf") in simavr_help,
              "rig-simavr's default firmware is not the installed one")

        # The installed rigd serves the installed dashboard, uPlot included.
        etc = os.path.join(root, "etc", "rig")
        url_file = os.path.join(root, "rigd.url")
        rigd = subprocess.Popen([os.path.join(bin_dir, "rigd"), "--config", os.path.join(etc, "rig.yaml"),
                                 "--db", os.path.join(root, "rigd.sqlite"), "--listen", "127.0.0.1:0",
                                 "--url-file", url_file], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(url_file) and rigd.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if check(os.path.exists(url_file), "the installed rigd did not start"):
                url = open(url_file).read().strip().rstrip("/")
                page = urllib.request.urlopen(url + "/", timeout=30).read().decode()
                installed_index = open(os.path.join(root, "usr", "share", "rig", "web", "index.html")).read()
                check(page == installed_index, "rigd's / is not the installed index.html")
                uplot = urllib.request.urlopen(url + "/node_modules/uplot/dist/uPlot.iife.min.js", timeout=30)
                check(uplot.status == 200 and len(uplot.read()) > 10000, "rigd does not serve the installed uPlot")
        finally:
            rigd.send_signal(signal.SIGTERM)
            try:
                rigd.wait(timeout=60)
            except subprocess.TimeoutExpired:
                rigd.kill()
                rigd.wait()
        check(rigd.returncode == 0, f"rigd exited {rigd.returncode}: {rigd.stdout.read() if rigd.stdout else ''}")

        # The installed rig runs a simulated session with the installed config, protocols and rig-vmcu.
        db = os.path.join(root, "run.sqlite")
        session = run([os.path.join(bin_dir, "rig"), "run", "--config", os.path.join(etc, "rig.yaml"),
                       "--subject", "SIM001", "--max-trials", "20", "--seed", "7", "--speed", "5", "--db", db],
                      env=env, check=False, timeout=600)
        check(session.returncode == 0, f"rig run with the installed files exited {session.returncode}:\n{session.stdout}{session.stderr}")
        if os.path.exists(db):
            with sqlite3.connect(db) as connection:
                trials = connection.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
            check(trials == 20, f"the installed rig run recorded {trials} trials, not 20")
    finally:
        if not os.environ.get("RIG_PACKAGE_KEEP"):
            shutil.rmtree(root, ignore_errors=True)

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("package: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
