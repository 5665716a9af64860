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

_JAVA = (
    _rule(STDOUT, "System.out.println System.out.print System.out.printf System.out.format "
          "System.out.write"),
    _rule(STDERR, "System.err.println System.err.print System.err.printf e.printStackTrace "
          "printStackTrace", "", ".printStackTrace"),
    _rule(LOGS, "", "log. logger. LOG. LOGGER. Log. Logger. slf4j."),
    _rule(EXITS, "System.exit Runtime.getRuntime.exit Runtime.getRuntime.halt"),
    _rule(PROCESSES, "Runtime.getRuntime.exec ProcessBuilder", "ProcessBuilder."),
    _rule(READS_ENV, "System.getenv System.getProperty"),
    _rule(GLOBAL_STATE, "System.setProperty System.setOut System.setErr Locale.setDefault"),
    _rule(READS_FILES, "FileInputStream FileReader RandomAccessFile Files.readAllBytes "
          "Files.readAllLines Files.readString Files.lines Files.newBufferedReader "
          "Files.newInputStream Scanner"),
    _rule(WRITES_FILES, "FileOutputStream FileWriter PrintWriter Files.write Files.writeString "
          "Files.newBufferedWriter Files.newOutputStream"),
    _rule(READS_FS, "Files.exists Files.isDirectory Files.isRegularFile Files.list Files.walk "
          "Files.size Files.getLastModifiedTime", "", ".listFiles .exists .isDirectory"),
    _rule(MODIFIES_FS, "Files.delete Files.deleteIfExists Files.createDirectory "
          "Files.createDirectories Files.createFile Files.createTempFile Files.move Files.copy",
          "", ".delete .mkdir .mkdirs .renameTo .createNewFile"),
    _rule(NETWORK, "Socket ServerSocket DatagramSocket URL HttpClient.newHttpClient "
          "HttpClient.newBuilder", "HttpURLConnection. OkHttpClient. RestTemplate. WebClient.",
          ".openConnection .openStream .sendAsync .connect"),
    _rule(DATABASE, "DriverManager.getConnection", "",
          ".executeQuery .executeUpdate .prepareStatement .createStatement"),
    _rule("sleeps", "Thread.sleep TimeUnit.SECONDS.sleep TimeUnit.MILLISECONDS.sleep"),
    _rule("starts threads", "", "", ".start"),
)

_C = (
    _rule(STDOUT, "printf puts putchar std::printf std::puts"),
    _rule("writes output", "fprintf fputs fputc fwrite std::fprintf std::fwrite write"),
    _rule(STDERR, "perror std::perror"),
    _rule(EXITS, "exit _exit abort std::exit std::abort quick_exit"),
    _rule(PROCESSES, "system popen fork vfork execv execve execvp execl execlp execle "
          "posix_spawn std::system"),
    _rule(READS_ENV, "getenv std::getenv secure_getenv"),
    _rule(MODIFIES_ENV, "setenv unsetenv putenv"),
    _rule(GLOBAL_STATE, "chdir signal sigaction srand setlocale atexit"),
    _rule(READS_FILES, "fopen fread fgets fgetc fscanf read open std::fopen opendir readdir"),
    _rule(MODIFIES_FS, "remove unlink rename mkdir rmdir chmod chown symlink link truncate "
          "std::remove std::rename std::filesystem::remove std::filesystem::remove_all "
          "std::filesystem::create_directory std::filesystem::create_directories "
          "std::filesystem::rename std::filesystem::copy"),
    _rule(READS_FS, "stat lstat access std::filesystem::exists std::filesystem::is_directory "
          "std::filesystem::file_size"),
    _rule(NETWORK, "socket connect bind listen accept send recv sendto recvfrom getaddrinfo "
          "gethostbyname curl_easy_perform"),
    _rule(DATABASE, "sqlite3_exec sqlite3_prepare_v2 sqlite3_step sqlite3_open PQexec "
          "mysql_query"),
    _rule("sleeps", "sleep usleep nanosleep std::this_thread::sleep_for"),
    _rule("starts threads", "pthread_create std::thread std::async"),
)

_CSHARP = (
    _rule(STDOUT, "Console.WriteLine Console.Write Console.Out.WriteLine"),
    _rule(STDERR, "Console.Error.WriteLine Console.Error.Write"),
    _rule(LOGS, "", "_logger. logger. Logger. Log. log. Debug.WriteLine Trace."),
    _rule(EXITS, "Environment.Exit Environment.FailFast Application.Exit"),
    _rule(PROCESSES, "Process.Start", "Process."),
    _rule(READS_ENV, "Environment.GetEnvironmentVariable Environment.GetEnvironmentVariables"),
    _rule(MODIFIES_ENV, "Environment.SetEnvironmentVariable"),
    _rule(GLOBAL_STATE, "Environment.CurrentDirectory Directory.SetCurrentDirectory"),
    _rule(READS_FILES, "File.ReadAllText File.ReadAllBytes File.ReadAllLines File.ReadLines "
          "File.OpenRead File.OpenText File.ReadAllTextAsync File.ReadAllBytesAsync "
          "StreamReader FileStream"),
    _rule(WRITES_FILES, "File.WriteAllText File.WriteAllBytes File.WriteAllLines "
          "File.AppendAllText File.OpenWrite File.Create File.WriteAllTextAsync StreamWriter"),
    _rule(READS_FS, "File.Exists Directory.Exists Directory.GetFiles Directory.GetDirectories "
          "Directory.EnumerateFiles"),
    _rule(MODIFIES_FS, "File.Delete File.Move File.Copy Directory.CreateDirectory "
          "Directory.Delete Directory.Move"),
    _rule(NETWORK, "HttpClient WebClient TcpClient UdpClient Socket WebRequest.Create",
          "", ".GetAsync .PostAsync .PutAsync .DeleteAsync .SendAsync .GetStringAsync "
          ".DownloadString"),
    _rule(DATABASE, "SqlConnection NpgsqlConnection SqliteConnection", "",
          ".ExecuteReader .ExecuteNonQuery .ExecuteScalar .ExecuteReaderAsync "
          ".ExecuteNonQueryAsync .SaveChanges .SaveChangesAsync"),
    _rule("sleeps", "Thread.Sleep Task.Delay"),
)

_RUBY = (
    _rule(STDOUT, "puts print p pp printf $stdout.puts $stdout.write STDOUT.puts"),
    _rule(STDERR, "warn $stderr.puts $stderr.write STDERR.puts"),
    _rule(LOGS, "", "logger. Rails.logger. @logger. log."),
    _rule(EXITS, "exit exit! abort Process.exit Kernel.exit"),
    _rule(PROCESSES, "system spawn exec fork Process.spawn IO.popen Open3.capture2 "
          "Open3.capture3 Open3.popen3 Kernel.system", "Open3."),
    _rule(READS_ENV, "ENV.fetch ENV.key? ENV.[]"),
    _rule(MODIFIES_ENV, "ENV.store ENV.delete ENV.update ENV.[]="),
    _rule(GLOBAL_STATE, "Dir.chdir srand trap Signal.trap at_exit"),
    _rule(READS_FILES, "File.read File.readlines File.foreach IO.read IO.readlines "
          "File.binread YAML.load_file JSON.load_file CSV.read"),
    _rule(WRITES_FILES, "File.write IO.write File.binwrite"),
    _rule(READS_FILES, "File.open"),
    _rule(READS_FS, "File.exist? File.exists? File.file? File.directory? Dir.glob Dir.[] "
          "Dir.entries Dir.children File.stat File.size File.mtime"),
    _rule(MODIFIES_FS, "File.delete File.unlink File.rename FileUtils.rm FileUtils.rm_rf "
          "FileUtils.mkdir_p FileUtils.mv FileUtils.cp Dir.mkdir Dir.rmdir", "FileUtils."),
    _rule(NETWORK, "TCPSocket.new TCPServer.new UDPSocket.new", "Net::HTTP. HTTParty. "
          "Faraday. RestClient. URI.open Excon. Typhoeus. HTTP."),
    _rule(DATABASE, "", "ActiveRecord::Base. PG. Mysql2. SQLite3. Sequel. Redis.",
          ".execute .exec_query .find_by_sql .save .save! .update! .destroy .create!"),
    _rule("sleeps", "sleep Kernel.sleep"),
    _rule("starts threads", "Thread.new"),
)

_PHP = (
    _rule(STDOUT, "print printf print_r var_dump var_export vprintf"),
    _rule(STDERR, "error_log"),
    _rule(LOGS, "", "$this.logger. $logger. Log:: syslog"),
    _rule(EXITS, "exit die"),
    _rule(PROCESSES, "exec shell_exec system passthru proc_open popen pcntl_fork pcntl_exec"),
    _rule(READS_ENV, "getenv $_ENV $_SERVER"),
    _rule(MODIFIES_ENV, "putenv"),
    _rule(GLOBAL_STATE, "ini_set set_error_handler set_exception_handler "
          "register_shutdown_function chdir date_default_timezone_set setlocale"),
    _rule(READS_FILES, "file_get_contents file fopen fread fgets readfile parse_ini_file "
          "fgetcsv stream_get_contents"),
    _rule(WRITES_FILES, "file_put_contents fwrite fputs fputcsv"),
    _rule(READS_FS, "file_exists is_file is_dir scandir glob filesize filemtime is_readable "
          "is_writable realpath opendir readdir"),
    _rule(MODIFIES_FS, "unlink mkdir rmdir rename copy chmod chown touch tempnam symlink "
          "move_uploaded_file"),
    _rule(NETWORK, "curl_exec curl_multi_exec fsockopen stream_socket_client "
          "socket_connect mail header setcookie", "Http:: GuzzleHttp\\"),
    _rule(DATABASE, "mysqli_query pg_query", "DB:: PDO",
          ".query .exec .prepare .execute .fetch .fetchAll .fetchColumn .beginTransaction "
          ".commit .rollBack"),
    _rule("sleeps", "sleep usleep"),
)

_KOTLIN = (
    _rule(STDOUT, "println print System.out.println"),
    _rule(STDERR, "System.err.println", "", ".printStackTrace"),
    _rule(LOGS, "", "log. logger. LOG. Log. Timber."),
    _rule(EXITS, "exitProcess System.exit"),
    _rule(PROCESSES, "ProcessBuilder Runtime.getRuntime.exec"),
    _rule(READS_ENV, "System.getenv System.getProperty"),
    _rule(READS_FILES, "File.readText File.readBytes File.readLines File.forEachLine "
          "File.bufferedReader File.inputStream FileInputStream FileReader", "",
          ".readText .readBytes .readLines .forEachLine .bufferedReader .inputStream"),
    _rule(WRITES_FILES, "FileOutputStream FileWriter", "",
          ".writeText .writeBytes .appendText .appendBytes .bufferedWriter .outputStream "
          ".printWriter"),
    _rule(READS_FS, "", "", ".exists .isDirectory .isFile .listFiles .walk"),
    _rule(MODIFIES_FS, "", "", ".delete .deleteRecursively .mkdir .mkdirs .renameTo "
          ".createNewFile .copyTo"),
    _rule(NETWORK, "URL Socket ServerSocket", "HttpClient. OkHttpClient. Retrofit. Ktor. "
          "client.get client.post", ".openConnection .openStream"),
    _rule(DATABASE, "DriverManager.getConnection", "",
          ".executeQuery .executeUpdate .prepareStatement .rawQuery .execSQL"),
    _rule("sleeps", "Thread.sleep delay"),
    _rule("starts coroutines", "launch async runBlocking GlobalScope.launch", "", ".launch"),
)

_SWIFT = (
    _rule(STDOUT, "print debugPrint dump"),
    _rule(LOGS, "NSLog os_log", "Logger. logger. log."),
    _rule(EXITS, "exit fatalError abort preconditionFailure"),
    _rule(PROCESSES, "Process Process.run"),
    _rule(READS_ENV, "ProcessInfo.processInfo.environment getenv"),
    _rule(MODIFIES_ENV, "setenv unsetenv"),
    _rule(READS_FILES, "FileManager.default.contents FileHandle.readDataToEndOfFile", "",
          ".readDataToEndOfFile"),
    _rule(WRITES_FILES, "FileManager.default.createFile", "", ".write"),
    _rule(READS_FS, "FileManager.default.fileExists FileManager.default.contentsOfDirectory "
          "FileManager.default.attributesOfItem"),
    _rule(MODIFIES_FS, "FileManager.default.removeItem FileManager.default.moveItem "
          "FileManager.default.copyItem FileManager.default.createDirectory"),
    _rule(NETWORK, "URLSession.shared.dataTask URLSession.shared.data URLSession", "URLSession. "
          "Alamofire. AF.", ".dataTask .downloadTask .uploadTask .resume"),
    _rule(DATABASE, "sqlite3_exec sqlite3_prepare_v2 sqlite3_step", "", ".save .fetch"),
    _rule("sleeps", "sleep usleep Thread.sleep Task.sleep"),
)

EFFECT_RULES: dict[str, tuple[Rule, ...]] = {
    "python": _PYTHON, "javascript": _ECMA, "typescript": _ECMA, "tsx": _ECMA,
    "rust": _RUST, "go": _GO, "java": _JAVA, "c": _C, "cpp": _C, "csharp": _CSHARP,
    "ruby": _RUBY, "php": _PHP, "kotlin": _KOTLIN, "swift": _SWIFT,
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
_ERRORS["ruby"] = (_rule("raises exceptions", "raise fail"),)
_ERRORS["php"] = (_rule("triggers errors", "trigger_error user_error"),)
_ERRORS["kotlin"] = (
    _rule("throws IllegalStateException", "error check checkNotNull"),
    _rule("throws IllegalArgumentException", "require requireNotNull"),
    _rule("throws NotImplementedError (TODO)", "TODO"),
)
_ERRORS["swift"] = (_rule("crashes on failed precondition",
                          "fatalError precondition preconditionFailure assert assertionFailure"),)
_ERRORS["c"] = _ERRORS["cpp"] = (_rule("aborts on failed assertion", "assert abort"),)

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
_NOISE["java"] = _rule(
    "noise", "String.valueOf String.format Objects.equals Objects.hash Objects.requireNonNull "
    "Arrays.asList List.of Map.of Set.of Optional.of Optional.empty Optional.ofNullable super this",
    "Math.", ".equals .hashCode .toString .size .isEmpty .get .put .add .contains .length "
    ".append .stream .map .filter .collect .getClass .valueOf .charAt .substring")
_NOISE["kotlin"] = _rule(
    "noise", "listOf mutableListOf mapOf mutableMapOf setOf mutableSetOf arrayOf emptyList "
    "emptyMap lazy let apply also run with require requireNotNull check error",
    "", ".let .apply .also .map .filter .forEach .toString .size .isEmpty .get .add .contains")
_NOISE["csharp"] = _rule(
    "noise", "nameof typeof string.Format string.IsNullOrEmpty string.Join String.Format",
    "Math.", ".ToString .Equals .GetHashCode .Add .Contains .Count .Any .Select .Where "
    ".ToList .ToArray .FirstOrDefault .GetType .ConfigureAwait")
_NOISE["c"] = _rule("noise", "sizeof strlen strcmp strncmp memcpy memset memmove strcpy "
                    "strncpy malloc calloc realloc free assert", "std::move std::forward",
                    ".size .empty .begin .end .push_back .emplace_back .data .c_str")
_NOISE["cpp"] = _NOISE["c"]
_NOISE["ruby"] = _rule(
    "noise", "require require_relative attr_reader attr_accessor attr_writer include extend "
    "raise new private protected public freeze lambda proc",
    "", ".each .map .select .reject .to_s .to_i .to_sym .nil? .empty? .size .length .freeze "
    ".dup .key? .include? .merge .fetch .first .last .join")
_NOISE["php"] = _rule(
    "noise", "count isset empty is_array is_string is_int in_array array_key_exists "
    "array_merge array_map array_filter implode explode sprintf strlen strtolower strtoupper "
    "trim str_replace substr strpos is_null", "", "")
_NOISE["swift"] = _rule(
    "noise", "String Int Double Array Dictionary Set min max abs", "",
    ".map .filter .forEach .append .count .isEmpty .first .last .contains .description")


_EFFECTS = {language: RuleIndex(rules) for language, rules in EFFECT_RULES.items()}
_ERROR_INDEX = {language: RuleIndex(rules) for language, rules in _ERRORS.items()}
_NOISE_INDEX = {language: RuleIndex((rule,)) for language, rule in _NOISE.items()}


# (language, resolved callee) -> (effect, error, noise). Callees repeat across files
# (`len`, `os.path.join`, `self.assertEqual`); bounded by clearing, which is cheap and rare.
_CACHE: dict[tuple[str, str], tuple[str | None, str | None, bool]] = {}
_CACHE_LIMIT = 200_000


def clear_cache() -> None:
    """Forget every classified callee: a daemon calls this after each pass, so the cache
    holds what one pass needs instead of every callee the process ever saw."""
    _CACHE.clear()


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
