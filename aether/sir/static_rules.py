"""Per-language call tables for the static analyser: which calls are side effects, which
signal error modes, and which are too generic to be worth listing as dependencies.

Callees are matched in the spelling the code uses after import aliases are resolved
(`sp.run` -> `subprocess.run`, `nh.Get` -> `http.Get`), with argument lists removed
(`Command::new("ls").arg("-l")` -> `Command::new.arg`). Rust macros end with `!`.
When several rules match, the one listed first wins (so `logging.basicConfig` is global
state, not logging); among prefixes of one callee the longest is tried first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    label: str
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()  # each ".name": matched against the callee's last segment


def _rule(label: str, exact: str = "", prefixes: str = "", suffixes: str = "") -> Rule:
    return Rule(label, frozenset(exact.split()), tuple(prefixes.split()), tuple(suffixes.split()))


_SEGMENT = re.compile(r"[.:]")


class RuleIndex:
    """Rules compiled for lookup: the answer of the first rule (in order) that matches, from
    dict lookups keyed by the whole callee, its first segment and its last segment."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self._exact: dict[str, tuple[int, str]] = {}
        self._suffix: dict[str, tuple[int, str]] = {}
        # first segment -> [(prefix, (order, label))], longest prefix first
        self._prefix: dict[str, list[tuple[str, tuple[int, str]]]] = {}
        for order, rule in enumerate(rules):
            for name in rule.exact:
                self._exact.setdefault(name, (order, rule.label))
            for suffix in rule.suffixes:
                self._suffix.setdefault(suffix, (order, rule.label))
            for prefix in rule.prefixes:
                bucket = self._prefix.setdefault(_SEGMENT.split(prefix, 1)[0], [])
                if all(p != prefix for p, _ in bucket):
                    bucket.append((prefix, (order, rule.label)))
        for bucket in self._prefix.values():
            bucket.sort(key=lambda entry: -len(entry[0]))

    def lookup(self, callee: str, head: str) -> str | None:
        best = self._exact.get(callee)
        for prefix, found in self._prefix.get(head, ()):
            if callee.startswith(prefix):
                if best is None or found[0] < best[0]:
                    best = found
                break
        dot = callee.rfind(".")
        if dot >= 0 and self._suffix:
            found_suffix = self._suffix.get(callee[dot:])
            if found_suffix is not None and (best is None or found_suffix[0] < best[0]):
                best = found_suffix
        return best[1] if best is not None else None


READS_FILES = "reads files"
WRITES_FILES = "writes files"
READS_FS = "reads the file system"
MODIFIES_FS = "modifies the file system"
NETWORK = "network I/O"
PROCESSES = "spawns processes"
DATABASE = "database access"
READS_ENV = "reads environment"
MODIFIES_ENV = "modifies environment"
GLOBAL_STATE = "mutates global state"
MODULE_STATE = "mutates module state"
STDOUT = "writes to stdout"
STDERR = "writes to stderr"
LOGS = "logs"
EXITS = "exits the process"

_PYTHON = (
    _rule(GLOBAL_STATE, "os.chdir os.umask sys.setrecursionlimit signal.signal atexit.register "
          "random.seed locale.setlocale warnings.filterwarnings warnings.simplefilter "
          "logging.basicConfig socket.setdefaulttimeout sys.settrace sys.setprofile "
          "sys.path.append sys.path.insert sys.path.extend sys.modules.pop"),
    _rule(MODIFIES_ENV, "os.putenv os.unsetenv os.environ.update os.environ.setdefault "
          "os.environ.pop os.environ.clear"),
    _rule(READS_ENV, "os.getenv os.getenvb", "os.environ"),
    _rule(STDOUT, "print pprint.pprint pprint.pp sys.stdout.write sys.stdout.writelines "
          "sys.stdout.flush"),
    _rule(STDERR, "sys.stderr.write sys.stderr.writelines traceback.print_exc "
          "traceback.print_exception"),
    _rule(LOGS, "warnings.warn",
          "logging. logger. log. _log. _logger. LOGGER. LOG. self.logger. self.log. "
          "self._logger. self._log. cls.logger. log.msg"),
    _rule(EXITS, "sys.exit os._exit exit quit os.abort"),
    _rule(PROCESSES, "os.system os.popen os.fork os.kill os.killpg multiprocessing.Process "
          "pty.spawn", "subprocess. asyncio.create_subprocess_ os.exec os.spawn os.posix_spawn"),
    _rule(DATABASE, "", "sqlite3. psycopg2. psycopg. pymysql. MySQLdb. asyncpg. sqlalchemy. "
          "pymongo. redis. aiosqlite. duckdb.",
          ".execute .executemany .executescript .fetchone .fetchall .fetchmany .commit "
          ".rollback"),
    _rule(NETWORK, "urlopen urllib.request.urlopen", "requests. httpx. urllib.request. urllib3. "
          "aiohttp. socket. http.client. smtplib. ftplib. imaplib. poplib. websockets. grpc. "
          "paramiko. boto3. xmlrpc.client.", ".urlopen .sendall .recv .recvfrom .sendto"),
    _rule(READS_FILES, "io.open codecs.open os.read json.load pickle.load tomllib.load "
          "marshal.load", "", ".read_text .read_bytes"),
    _rule(WRITES_FILES, "os.write json.dump pickle.dump marshal.dump", "",
          ".write_text .write_bytes .touch"),
    _rule(MODIFIES_FS, "os.remove os.unlink os.rename os.renames os.replace os.makedirs "
          "os.mkdir os.rmdir os.removedirs os.symlink os.link os.chmod os.chown os.truncate "
          "os.mkfifo", "shutil. tempfile.", ".unlink .mkdir .rmdir .chmod .symlink_to "
          ".hardlink_to"),
    _rule(READS_FS, "os.listdir os.scandir os.walk os.stat os.lstat os.path.exists "
          "os.path.isfile os.path.isdir os.path.getsize os.path.getmtime os.path.islink "
          "glob.glob glob.iglob os.access", "", ".iterdir .rglob .is_file .is_dir"),
    _rule("sleeps", "time.sleep asyncio.sleep"),
)

_JS_FS_READS = ("fs.read fs.exists fs.stat fs.lstat fs.access fs.createReadStream fs.watch "
                "fs.opendir fs.realpath")
_JS_FS_WRITES = "fs.write fs.append fs.createWriteStream"


def _js_fs(prefixes: str) -> str:
    return " ".join(p + " " + p.replace("fs.", "fs.promises.", 1) + " "
                    + p.replace("fs.", "fsPromises.", 1) for p in prefixes.split())


_ECMA = (
    _rule(READS_ENV, "process.env"),
    _rule(STDOUT, "console.log console.info console.debug console.table console.dir "
          "process.stdout.write"),
    _rule(STDERR, "console.error console.warn console.trace process.stderr.write"),
    _rule(EXITS, "process.exit process.abort"),
    _rule(PROCESSES, "execa Bun.spawn Deno.run Deno.Command Worker", "child_process. execa."),
    _rule(READS_FILES, "", _js_fs(_JS_FS_READS)),
    _rule(WRITES_FILES, "", _js_fs(_JS_FS_WRITES)),
    _rule(MODIFIES_FS, "", "fs. fs.promises. fsPromises. fs-extra. fse."),
    _rule(NETWORK, "fetch axios WebSocket XMLHttpRequest EventSource $.ajax $.get $.post "
          "navigator.sendBeacon", "axios. http.request http.get https.request https.get "
          "net.connect net.createConnection net.createServer http.createServer "
          "https.createServer got. superagent. undici. ky. dgram."),
    _rule(DATABASE, "knex", "prisma. knex. sequelize. mongoose. pg. mysql. mysql2. "
          "better-sqlite3. sqlite3. redis. ioredis.",
          ".query .execute .insertOne .insertMany .updateOne .updateMany .deleteOne "
          ".deleteMany .findOne .findMany .aggregate"),
    _rule("touches the DOM", "", "document. window.location. window.history."),
    _rule("uses browser storage", "", "localStorage. sessionStorage. indexedDB."),
    _rule("schedules timers", "setTimeout setInterval setImmediate requestAnimationFrame"),
)

_RUST = (
    _rule(STDOUT, "println! print! std::io::stdout io::stdout"),
    _rule(STDERR, "eprintln! eprint! dbg! std::io::stderr io::stderr"),
    _rule(LOGS, "info! warn! error! debug! trace! log!",
          "log:: tracing::info tracing::warn tracing::error tracing::debug tracing::trace "
          "tracing::event"),
    _rule(EXITS, "std::process::exit process::exit std::process::abort process::abort"),
    _rule(PROCESSES, "", "Command:: std::process::Command process::Command "
          "tokio::process::Command"),
    _rule(MODIFIES_ENV, "std::env::set_var env::set_var std::env::remove_var env::remove_var"),
    _rule(GLOBAL_STATE, "std::env::set_current_dir env::set_current_dir"),
    _rule(READS_ENV, "", "std::env:: env::"),
    _rule(READS_FILES, "", "std::fs::read fs::read tokio::fs::read File::open "
          "std::fs::File::open fs::File::open tokio::fs::File::open fs::metadata "
          "std::fs::metadata"),
    _rule(WRITES_FILES, "", "std::fs::write fs::write tokio::fs::write File::create "
          "std::fs::File::create fs::File::create tokio::fs::File::create OpenOptions:: "
          "std::fs::OpenOptions fs::OpenOptions"),
    _rule(MODIFIES_FS, "", "std::fs:: fs:: tokio::fs::"),
    _rule(NETWORK, "", "reqwest:: TcpStream:: TcpListener:: UdpSocket:: std::net:: "
          "tokio::net:: hyper:: ureq:: surf:: isahc::"),
    _rule(DATABASE, "", "sqlx:: diesel:: rusqlite:: Connection::open postgres:: "
          "tokio_postgres:: mongodb:: redis::",
          ".execute .query .query_row .query_map .prepare .fetch_one .fetch_all "
          ".fetch_optional"),
)

_GO = (
    _rule(STDOUT, "fmt.Print fmt.Println fmt.Printf"),
    _rule("writes output", "", "fmt.Fprint"),
    _rule(EXITS, "os.Exit log.Fatal log.Fatalf log.Fatalln"),
    _rule(LOGS, "", "log. slog. logrus. zap. klog."),
    _rule(READS_ENV, "os.Getenv os.LookupEnv os.Environ os.ExpandEnv"),
    _rule(MODIFIES_ENV, "os.Setenv os.Unsetenv os.Clearenv"),
    _rule(GLOBAL_STATE, "os.Chdir"),
    _rule(PROCESSES, "exec.Command exec.CommandContext os.StartProcess syscall.Exec "
          "syscall.ForkExec"),
    _rule(READS_FILES, "os.Open os.ReadFile ioutil.ReadFile ioutil.ReadAll"),
    _rule(WRITES_FILES, "os.WriteFile ioutil.WriteFile os.Create os.OpenFile"),
    _rule(READS_FS, "os.ReadDir ioutil.ReadDir os.Stat os.Lstat filepath.Walk "
          "filepath.WalkDir filepath.Glob"),
    _rule(MODIFIES_FS, "os.Remove os.RemoveAll os.Rename os.Mkdir os.MkdirAll os.Chmod "
          "os.Chown os.Symlink os.Link os.Truncate os.CreateTemp os.MkdirTemp ioutil.TempFile "
          "ioutil.TempDir"),
    _rule(NETWORK, "http.Get http.Post http.PostForm http.Head http.ListenAndServe "
          "http.ListenAndServeTLS http.Serve net.Dial net.DialTimeout net.Listen "
          "net.ListenPacket grpc.Dial grpc.NewClient grpc.DialContext", "websocket.",
          ".RoundTrip"),
    _rule(DATABASE, "sql.Open", "gorm. pgx. sqlx.",
          ".Exec .ExecContext .Query .QueryContext .QueryRow .QueryRowContext .BeginTx"),
    _rule("sleeps", "time.Sleep"),
)

EFFECT_RULES: dict[str, tuple[Rule, ...]] = {
    "python": _PYTHON, "javascript": _ECMA, "typescript": _ECMA, "tsx": _ECMA,
    "rust": _RUST, "go": _GO,
}

_ERRORS: dict[str, tuple[Rule, ...]] = {
    "python": (),
    "javascript": (_rule("rejects promises", "Promise.reject"),),
    "rust": (
        _rule("panics", "panic! unreachable! todo! unimplemented!"),
        _rule("panics on failed assertion",
              "assert! assert_eq! assert_ne! debug_assert! debug_assert_eq! debug_assert_ne!"),
        _rule("panics on unwrap", "", "", ".unwrap .expect"),
        _rule("returns error", "bail! anyhow! ensure! anyhow::bail! anyhow::anyhow!"),
        _rule("returns Err", "Err"),
    ),
    "go": (
        _rule("panics", "panic log.Panic log.Panicf log.Panicln"),
        _rule("returns error", "errors.New fmt.Errorf errors.Wrap errors.Wrapf errors.Join"),
        _rule("recovers from panics", "recover"),
        _rule("exits on fatal error", "log.Fatal log.Fatalf log.Fatalln"),
    ),
}
_ERRORS["typescript"] = _ERRORS["tsx"] = _ERRORS["javascript"]

# Calls too generic to say anything about what a symbol depends on.
_NOISE: dict[str, Rule] = {
    "python": _rule(
        "noise",
        "len isinstance issubclass str int float bool bytes bytearray list dict set frozenset "
        "tuple range enumerate zip map filter sorted reversed min max sum any all abs round "
        "getattr setattr hasattr delattr super type repr id hash iter next callable vars "
        "format print object divmod ord chr",
        "super.",
        ".append .extend .pop .get .items .keys .values .join .split .rsplit .strip .lstrip "
        ".rstrip .startswith .endswith .replace .lower .upper .format .encode .decode .copy "
        ".add .update .setdefault .insert .count .index .splitlines .partition .rpartition"),
    "javascript": _rule(
        "noise",
        "parseInt parseFloat String Number Boolean Array Object Symbol isNaN require super "
        "Array.isArray Array.from Object.keys Object.values Object.entries Object.assign "
        "Object.freeze JSON.stringify JSON.parse Promise.all Promise.resolve Error",
        "Math.",
        ".push .pop .shift .unshift .map .filter .forEach .reduce .join .split .slice .splice "
        ".indexOf .includes .concat .toString .trim .replace .toLowerCase .toUpperCase .then "
        ".catch .finally .bind .call .apply .startsWith .endsWith .keys .values .entries .has "
        ".get .set .some .every .find .sort .padStart .padEnd"),
    "rust": _rule(
        "noise",
        "Some Ok Err Box::new Vec::new Vec::with_capacity String::new String::from "
        "Default::default HashMap::new HashSet::new BTreeMap::new Arc::new Rc::new",
        "",
        ".clone .into .to_string .to_owned .as_str .as_ref .as_mut .iter .iter_mut .into_iter "
        ".map .collect .unwrap .expect .unwrap_or .unwrap_or_default .unwrap_or_else .ok "
        ".ok_or .ok_or_else .len .is_empty .push .push_str .insert .get .get_mut .as_bytes "
        ".borrow .borrow_mut .map_err .and_then .filter .to_vec .contains .cloned .is_some "
        ".is_none .is_ok .is_err .as_deref .extend .join .trim .chars .bytes .enumerate"),
    "go": _rule(
        "noise",
        "len cap make new append copy delete panic recover string int int64 int32 uint uint64 "
        "float64 byte rune error close print println min max",
        "",
        ".Error .String .Len .Lock .Unlock .RLock .RUnlock .Done .Add .Wait"),
}
_NOISE["typescript"] = _NOISE["tsx"] = _NOISE["javascript"]


_EFFECTS = {language: RuleIndex(rules) for language, rules in EFFECT_RULES.items()}
_ERROR_INDEX = {language: RuleIndex(rules) for language, rules in _ERRORS.items()}
_NOISE_INDEX = {language: RuleIndex((rule,)) for language, rule in _NOISE.items()}


# (language, resolved callee) -> (effect, error, noise). Callees repeat across files
# (`len`, `os.path.join`, `self.assertEqual`); bounded by clearing, which is cheap and rare.
_CACHE: dict[tuple[str, str], tuple[str | None, str | None, bool]] = {}
_CACHE_LIMIT = 200_000


def classify(language: str, callee: str) -> tuple[str | None, str | None, bool]:
    """(side-effect label, error-mode label, too generic to list as a dependency)."""
    key = (language, callee)
    found = _CACHE.get(key)
    if found is None:
        head = _SEGMENT.split(callee, 1)[0]
        effects, errors, noise = (_EFFECTS.get(language), _ERROR_INDEX.get(language),
                                  _NOISE_INDEX.get(language))
        found = (effects.lookup(callee, head) if effects is not None else None,
                 errors.lookup(callee, head) if errors is not None else None,
                 noise is not None and noise.lookup(callee, head) is not None)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def effect_of(language: str, callee: str) -> str | None:
    """The side-effect label of a (resolved) callee, if it is one."""
    return classify(language, callee)[0]


def error_of(language: str, callee: str) -> str | None:
    """The error-mode label a call implies (`panic!`, `.unwrap()`, `fmt.Errorf`), if any."""
    return classify(language, callee)[1]


def is_noise(language: str, callee: str) -> bool:
    """Too generic (`len`, `.append`, `.clone`) to be worth listing as a dependency."""
    return classify(language, callee)[2]
