// SPDX-License-Identifier: BSD-2-Clause
/*
 * Launching QEMU with the relay, and tearing it down.
 *
 * tg_qemu_start() works in a private work directory (mkdtemp under
 * TMPDIR): it holds our patched relay (bl33.bin, or relay.elf without a
 * secure world), links to the user's firmware files (never modified), the
 * flash image when one has to be assembled, and by default the logs. QEMU
 * runs with that directory as its working directory, because BL2 loads
 * images over semihosting from there.
 *
 * RAM is a memfd that QEMU opens as /proc/self/fd/3: it is shared with
 * QEMU (share=on) and never has a name in any file system, so nothing is
 * left behind whatever happens to either process.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef TG_QEMU_RELAY_DIR
#define TG_QEMU_RELAY_DIR ""
#endif
#ifndef TG_QEMU_ORACLE_PLUGIN
#define TG_QEMU_ORACLE_PLUGIN ""
#endif

/* QEMU inherits NS RAM as fd 3 and the oracle table as fd 4. */
#define QEMU_RAM_FD 3
#define QEMU_ORACLE_FD 4

#define FIRMWARE_HINT                                                        \
	"expected flash.bin, or bl1.bin + fip.bin, or bl1.bin bl2.bin "      \
	"bl31.bin bl32.bin bl32_extra1.bin bl32_extra2.bin (TF-A PLAT=qemu " \
	"SPD=opteed, OP-TEE with CFG_NS_VIRTUALIZATION=y; see "              \
	"docs/real-optee.md)"

static const char *const semihosting_set[] = {
	"bl1.bin",  "bl2.bin",         "bl31.bin",
	"bl32.bin", "bl32_extra1.bin", "bl32_extra2.bin",
};
#define N_SEMIHOSTING (sizeof(semihosting_set) / sizeof(semihosting_set[0]))

enum firmware_form {
	FW_NONE = 0,   /* no secure world */
	FW_FLASH,      /* flash.bin */
	FW_BL1_FIP,    /* bl1.bin + fip.bin: we assemble flash.bin */
	FW_SEMIHOSTING /* the file set */
};

__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/*
 * strf() that says whether everything fitted. Paths and log lines are
 * bounded: a truncated one is caught where it matters (the file is then
 * not found) rather than warned about at every call.
 */
__attribute__((format(printf, 3, 4))) static bool
strf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < len;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool is_file(const char *dir, const char *name)
{
	char path[TG_QEMU_PATH_MAX];
	struct stat st;

	if (!strf(path, sizeof(path), "%s/%s", dir, name))
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Find @name in PATH, or check an explicit path. */
static bool find_program(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	const char *p, *end;
	size_t n;

	if (strchr(name, '/')) {
		if (access(name, X_OK))
			return false;
		strf(out, outlen, "%s", name);
		return true;
	}
	for (p = path ? path : "/usr/bin:/bin"; *p; p = end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n && strf(out, outlen, "%.*s/%s", (int)n, p, name) &&
		    !access(out, X_OK))
			return true;
		if (*end == ':')
			end++;
	}
	return false;
}

static int detect_firmware(const char *dir, enum firmware_form *form,
			   char *err, size_t errlen)
{
	char missing[256] = "";
	struct stat st;
	size_t i;

	if (!dir || !*dir)
		return fail(err, errlen, TG_QEMU_ENOFIRMWARE,
			    "no firmware directory given: " FIRMWARE_HINT);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return fail(err, errlen, TG_QEMU_ENOFIRMWARE,
			    "firmware directory %s does not exist: "
			    FIRMWARE_HINT, dir);
	if (is_file(dir, "flash.bin")) {
		*form = FW_FLASH;
		return TG_QEMU_OK;
	}
	if (is_file(dir, "bl1.bin") && is_file(dir, "fip.bin")) {
		*form = FW_BL1_FIP;
		return TG_QEMU_OK;
	}
	for (i = 0; i < N_SEMIHOSTING; i++) {
		if (is_file(dir, semihosting_set[i]))
			continue;
		strncat(missing, " ", sizeof(missing) - strlen(missing) - 1);
		strncat(missing, semihosting_set[i],
			sizeof(missing) - strlen(missing) - 1);
	}
	if (!*missing) {
		*form = FW_SEMIHOSTING;
		return TG_QEMU_OK;
	}
	return fail(err, errlen, TG_QEMU_ENOFIRMWARE,
		    "firmware directory %s is incomplete (missing:%s): "
		    FIRMWARE_HINT, dir, missing);
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > (64 << 20)) {
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len);
	if (!*buf) {
		close(fd);
		return -1;
	}
	while (got < *len) {
		n = read(fd, *buf + got, *len - got);
		if (n <= 0) {
			free(*buf);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	ssize_t n;
	size_t done = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	return close(fd);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v)); /* both sides are little-endian */
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* File offset of the relay header in relay.elf (the PT_LOAD holding it). */
static long elf_header_offset(const uint8_t *elf, size_t len)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
	const Elf64_Phdr *ph;
	uint16_t i;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_AARCH64)
		return -1;
	for (i = 0; i < eh->e_phnum; i++) {
		if (eh->e_phoff + (uint64_t)(i + 1) * sizeof(*ph) > len)
			return -1;
		ph = (const Elf64_Phdr *)(elf + eh->e_phoff) + i;
		if (ph->p_type == PT_LOAD && ph->p_paddr == TG_RELAY_LOAD_PA &&
		    ph->p_filesz >= sizeof(struct tg_relay_image) &&
		    ph->p_offset + ph->p_filesz <= len)
			return (long)ph->p_offset;
	}
	return -1;
}

/*
 * Copy the relay into the work dir as @dst with the mailbox address and the
 * CPU count patched into its header.
 */
static int install_relay(struct tg_qemu *q, const char *relay_dir, bool elf,
			 uint32_t cpus, const char *dst, char *err,
			 size_t errlen)
{
	char src[TG_QEMU_PATH_MAX];
	uint8_t *buf, *hdr;
	uint64_t version;
	size_t len;
	long off = 0;
	int rc;

	strf(src, sizeof(src), "%s/%s", relay_dir,
		 elf ? "relay.elf" : "relay.bin");
	if (read_file(src, &buf, &len))
		return fail(err, errlen, TG_QEMU_ENORELAY,
			    "relay firmware %s not found or unreadable: build "
			    "it (needs gcc-aarch64-linux-gnu) or set the relay "
			    "directory", src);
	if (elf)
		off = elf_header_offset(buf, len);
	if (off < 0 || (size_t)off + sizeof(struct tg_relay_image) > len)
		goto bad;
	hdr = buf + off;
	if (get_u64(hdr + 8) != TG_RELAY_IMAGE_MAGIC)
		goto bad;
	version = get_u64(hdr + 32);
	if (version != TG_RELAY_PROTO_VERSION) {
		free(buf);
		return fail(err, errlen, TG_QEMU_EPROTO,
			    "relay firmware %s speaks protocol %llu, this "
			    "teegate speaks %u: rebuild teegate", src,
			    (unsigned long long)version,
			    TG_RELAY_PROTO_VERSION);
	}
	q->relay_size = get_u64(hdr + 24);
	put_u64(hdr + TG_RELAY_IMAGE_MAILBOX_OFF, q->mailbox_pa);
	put_u64(hdr + TG_RELAY_IMAGE_CPUS_OFF, cpus);
	rc = write_file(dst, buf, len);
	free(buf);
	if (rc)
		return fail(err, errlen, TG_QEMU_ESYS, "cannot write %s: %s",
			    dst, strerror(errno));
	return TG_QEMU_OK;
bad:
	free(buf);
	return fail(err, errlen, TG_QEMU_ENORELAY,
		    "%s is not a teegate relay image: rebuild teegate", src);
}

/* flash.bin = BL1 at 0, the FIP at 256 KiB (TF-A's PLAT_QEMU_FIP_BASE). */
static int assemble_flash(const char *fwdir, const char *dst, char *err,
			  size_t errlen)
{
	char path[TG_QEMU_PATH_MAX];
	uint8_t *bl1, *fip, *img;
	size_t bl1_len, fip_len;
	const size_t fip_base = 0x40000;
	int rc;

	strf(path, sizeof(path), "%s/bl1.bin", fwdir);
	if (read_file(path, &bl1, &bl1_len))
		return fail(err, errlen, TG_QEMU_ENOFIRMWARE,
			    "cannot read %s: " FIRMWARE_HINT, path);
	strf(path, sizeof(path), "%s/fip.bin", fwdir);
	if (read_file(path, &fip, &fip_len)) {
		free(bl1);
		return fail(err, errlen, TG_QEMU_ENOFIRMWARE,
			    "cannot read %s: " FIRMWARE_HINT, path);
	}
	if (bl1_len > fip_base) {
		free(bl1);
		free(fip);
		return fail(err, errlen, TG_QEMU_ENOFIRMWARE,
			    "%s/bl1.bin is larger than 256 KiB: not TF-A's "
			    "qemu BL1", fwdir);
	}
	img = calloc(1, fip_base + fip_len);
	rc = -1;
	if (img) {
		memcpy(img, bl1, bl1_len);
		memcpy(img + fip_base, fip, fip_len);
		rc = write_file(dst, img, fip_base + fip_len);
	}
	free(img);
	free(bl1);
	free(fip);
	if (rc)
		return fail(err, errlen, TG_QEMU_ESYS, "cannot write %s",
			    dst);
	return TG_QEMU_OK;
}

static int link_firmware(const char *fwdir, const char *workdir, char *err,
			 size_t errlen)
{
	char src[TG_QEMU_PATH_MAX], dst[TG_QEMU_PATH_MAX], abs[PATH_MAX];
	size_t i;

	if (!realpath(fwdir, abs))
		return fail(err, errlen, TG_QEMU_ENOFIRMWARE,
			    "cannot resolve %s: %s", fwdir, strerror(errno));
	for (i = 0; i < N_SEMIHOSTING; i++) {
		strf(src, sizeof(src), "%s/%s", abs, semihosting_set[i]);
		strf(dst, sizeof(dst), "%s/%s", workdir,
			 semihosting_set[i]);
		if (symlink(src, dst))
			return fail(err, errlen, TG_QEMU_ESYS,
				    "cannot link %s: %s", dst,
				    strerror(errno));
	}
	return TG_QEMU_OK;
}

/* ---- the QEMU process ---------------------------------------------------- */

#define MAX_ARGS 40

struct qemu_argv {
	char *argv[MAX_ARGS];
	char buf[9][TG_QEMU_PATH_MAX];
	int n;
};

static void arg(struct qemu_argv *a, char *s)
{
	if (a->n < MAX_ARGS - 1)
		a->argv[a->n++] = s;
	a->argv[a->n] = NULL;
}

static void build_argv(struct qemu_argv *a, const char *qemu,
		       const struct tg_qemu *q, enum firmware_form form,
		       uint32_t cpus, uint32_t gic, const char *bios)
{
	memset(a, 0, sizeof(*a));
	arg(a, (char *)qemu);
	strf(a->buf[0], sizeof(a->buf[0]),
		 "virt,secure=%s,virtualization=on,gic-version=%u,"
		 "memory-backend=ram",
		 form == FW_NONE ? "off" : "on", gic);
	arg(a, "-machine");
	arg(a, a->buf[0]);
	strf(a->buf[1], sizeof(a->buf[1]),
		 "memory-backend-file,id=ram,size=%llu,"
		 "mem-path=/proc/self/fd/3,share=on",
		 (unsigned long long)q->ram_size);
	arg(a, "-object");
	arg(a, a->buf[1]);
	strf(a->buf[2], sizeof(a->buf[2]), "%lluM",
		 (unsigned long long)(q->ram_size >> 20));
	arg(a, "-m");
	arg(a, a->buf[2]);
	arg(a, "-cpu");
	arg(a, "cortex-a57");
	strf(a->buf[3], sizeof(a->buf[3]), "%u", cpus);
	arg(a, "-smp");
	arg(a, a->buf[3]);
	arg(a, "-display");
	arg(a, "none");
	arg(a, "-monitor");
	arg(a, "none");
	arg(a, "-nodefaults");
	strf(a->buf[4], sizeof(a->buf[4]), "file:%s", q->nw_log);
	arg(a, "-serial");
	arg(a, a->buf[4]);
	strf(a->buf[5], sizeof(a->buf[5]), "file:%s", q->sw_log);
	arg(a, "-serial");
	arg(a, a->buf[5]);
	if (form == FW_NONE) {
		arg(a, "-kernel");
		arg(a, "relay.elf");
	} else {
		arg(a, "-semihosting-config");
		arg(a, "enable=on,target=native");
		strf(a->buf[6], sizeof(a->buf[6]), "%s", bios);
		arg(a, "-bios");
		arg(a, a->buf[6]);
	}
	if (q->oracle) {
		strf(a->buf[8], sizeof(a->buf[8]), "%s,table=%d,ram=%d",
		     q->oracle_plugin, QEMU_ORACLE_FD, QEMU_RAM_FD);
		arg(a, "-plugin");
		arg(a, a->buf[8]);
	}
}

/*
 * In the child: die with the parent, keep only the RAM fd (as fd 3) and
 * stdio, run QEMU in the work dir. Only async-signal-safe calls.
 */
static void __attribute__((noreturn))
exec_qemu(const struct tg_qemu *q, pid_t parent, char *const argv[])
{
	int fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	/* A terminal's ^C is teegate's to handle; it then stops QEMU. */
	setpgid(0, 0);
	fd = open(q->qemu_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(127);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		_exit(127);
	if (chdir(q->workdir))
		_exit(127);
	/*
	 * RAM becomes fd 3, the oracle table fd 4. Move the table out of
	 * the way first, so that neither dup2() overwrites the other. dup2()
	 * clears FD_CLOEXEC, except when it has nothing to do.
	 */
	if (q->oracle) {
		fd = fcntl(q->oracle_fd, F_DUPFD, 10);
		if (fd < 0)
			_exit(127);
	}
	if (q->ram_fd == QEMU_RAM_FD ? fcntl(QEMU_RAM_FD, F_SETFD, 0)
				     : dup2(q->ram_fd, QEMU_RAM_FD) < 0)
		_exit(127);
	if (q->oracle && dup2(fd, QEMU_ORACLE_FD) < 0)
		_exit(127);
	closefrom(q->oracle ? QEMU_ORACLE_FD + 1 : QEMU_RAM_FD + 1);
	execv(argv[0], argv);
	_exit(127);
}

/*
 * The spawner thread forks QEMU and then waits until tg_qemu_stop() lets it
 * go. PR_SET_PDEATHSIG fires when the thread that forked dies, not the
 * process: forking from a thread of our own that lives exactly as long as
 * the backend makes "QEMU dies with teegate" hold whichever thread called
 * tg_qemu_start(), and QEMU still dies with the process on any crash.
 */
struct spawn_req {
	struct tg_qemu *q;
	char *const *argv;
	pid_t parent;
	int report[2]; /* spawner -> starter: the pid, or -errno */
};

static void *spawner_thread(void *arg)
{
	struct spawn_req *req = arg;
	struct tg_qemu *q = req->q;
	int fd = q->spawner_quit[0];
	char c;
	int v;

	q->pid = fork();
	if (q->pid == 0)
		exec_qemu(q, req->parent, req->argv);
	v = q->pid < 0 ? -errno : q->pid;
	if (write(req->report[1], &v, sizeof(v)) != sizeof(v))
		return NULL;
	/* req is gone from here on. Wait for tg_qemu_stop(): EOF. */
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static int spawn_qemu(struct tg_qemu *q, char *const argv[], char *err,
		      size_t errlen)
{
	struct spawn_req req = { .q = q, .argv = argv, .parent = getpid() };
	int v = 0, rc;
	ssize_t n;

	if (pipe2(req.report, O_CLOEXEC))
		return fail(err, errlen, TG_QEMU_ESYS, "pipe: %s",
			    strerror(errno));
	if (pipe2(q->spawner_quit, O_CLOEXEC)) {
		rc = fail(err, errlen, TG_QEMU_ESYS, "pipe: %s",
			  strerror(errno));
		q->spawner_quit[0] = q->spawner_quit[1] = -1;
		goto out;
	}
	rc = pthread_create(&q->spawner, NULL, spawner_thread, &req);
	if (rc) {
		rc = fail(err, errlen, TG_QEMU_ESYS,
			  "cannot start the spawner thread: %s", strerror(rc));
		goto out;
	}
	q->have_spawner = true;
	do
		n = read(req.report[0], &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(v) || v <= 0) {
		q->pid = 0;
		rc = fail(err, errlen, TG_QEMU_ESYS, "fork: %s",
			  strerror(v < 0 ? -v : EIO));
		goto out;
	}
	rc = TG_QEMU_OK;
out:
	close(req.report[0]);
	close(req.report[1]);
	return rc;
}

/* Last @lines lines of a log, squeezed onto one line. */
static void log_tail(int fd, int lines, char *out, size_t outlen)
{
	char buf[2048];
	ssize_t n = 0;
	off_t size;
	int seen = 0;
	char *p, *c;

	out[0] = 0;
	if (fd >= 0) {
		size = lseek(fd, 0, SEEK_END);
		n = pread(fd, buf, sizeof(buf) - 1,
			  size > (off_t)sizeof(buf) - 1
				  ? size - (off_t)sizeof(buf) + 1
				  : 0);
	}
	if (n <= 0) {
		strf(out, outlen, "(empty)");
		return;
	}
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	for (p = buf + n; p > buf; p--) {
		if (p[-1] == '\n' && ++seen == lines)
			break;
	}
	for (c = p; *c; c++) {
		if (*c == '\n')
			*c = '|';
		else if ((unsigned char)*c < 0x20)
			*c = ' ';
	}
	strf(out, outlen, "%s", p);
}

static void boot_logs(const struct tg_qemu *q, char *out, size_t outlen)
{
	char nw[400], sw[400], qm[400];

	log_tail(q->log_fd[TG_QEMU_LOG_NW], 3, nw, sizeof(nw));
	log_tail(q->log_fd[TG_QEMU_LOG_SW], 3, sw, sizeof(sw));
	log_tail(q->log_fd[TG_QEMU_LOG_QEMU], 2, qm, sizeof(qm));
	strf(out, outlen, "qemu: %s || nw.log: %s || sw.log: %s", qm, nw, sw);
}

/*
 * Create the logs before QEMU does (it truncates and appends to the same
 * files) and keep a read fd of each: tails stay readable after the work
 * dir is gone.
 */
static int open_logs(struct tg_qemu *q, char *err, size_t errlen)
{
	const char *paths[TG_QEMU_NLOGS] = { q->nw_log, q->sw_log,
					     q->qemu_log };
	int i, fd;

	for (i = 0; i < TG_QEMU_NLOGS; i++) {
		fd = open(paths[i], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
		if (fd < 0)
			return fail(err, errlen, TG_QEMU_ESYS,
				    "cannot create %s: %s", paths[i],
				    strerror(errno));
		q->log_fd[i] = fd;
	}
	return TG_QEMU_OK;
}

static bool relay_ready(const struct tg_qemu *q, uint32_t cpus)
{
	volatile struct tg_relay_mailbox *mb = q->mb;
	uint32_t i;

	if (__atomic_load_n(&mb->magic, __ATOMIC_ACQUIRE) !=
	    TG_RELAY_MAILBOX_MAGIC)
		return false;
	for (i = 0; i < cpus; i++)
		if (__atomic_load_n(&mb->ready[i], __ATOMIC_ACQUIRE) !=
		    TG_RELAY_READY)
			return false;
	return true;
}

static int wait_ready(struct tg_qemu *q, uint32_t cpus, uint32_t timeout_ms,
		      double t0, char *err, size_t errlen)
{
	struct timespec nap = { 0, 2 * 1000 * 1000 };
	char logs[1400];
	int status;
	pid_t r;

	for (;;) {
		if (relay_ready(q, cpus))
			break;
		r = waitpid(q->pid, &status, WNOHANG);
		if (r == q->pid) {
			q->reaped = true;
			boot_logs(q, logs, sizeof(logs));
			return fail(err, errlen, TG_QEMU_EDIED,
				    "QEMU exited during boot (%s %d); check "
				    "the firmware images: %s",
				    WIFEXITED(status) ? "status" : "signal",
				    WIFEXITED(status) ? WEXITSTATUS(status)
						      : WTERMSIG(status),
				    logs);
		}
		if (now_ms() - t0 > timeout_ms) {
			boot_logs(q, logs, sizeof(logs));
			if (__atomic_load_n(&q->mb->magic, __ATOMIC_ACQUIRE) ==
			    TG_RELAY_MAILBOX_MAGIC)
				return fail(err, errlen, TG_QEMU_ETIMEOUT,
					    "relay CPU 0 started but only %llu "
					    "of %u CPUs came up within %u ms "
					    "(PSCI CPU_ON: %lld); try fewer "
					    "CPUs: %s",
					    (unsigned long long)q->mb->ncpus,
					    cpus, timeout_ms,
					    (long long)q->mb->cpu_on_ret[1],
					    logs);
			return fail(err, errlen, TG_QEMU_ETIMEOUT,
				    "relay not ready within %u ms: the "
				    "firmware did not reach BL33 (a FIP must "
				    "not contain its own BL33; raise the "
				    "timeout on a slow machine): %s",
				    timeout_ms, logs);
		}
		nanosleep(&nap, NULL);
	}
	if (q->mb->version != TG_RELAY_PROTO_VERSION)
		return fail(err, errlen, TG_QEMU_EPROTO,
			    "relay reports protocol %llu, expected %u: "
			    "rebuild teegate",
			    (unsigned long long)q->mb->version,
			    TG_RELAY_PROTO_VERSION);
	return TG_QEMU_OK;
}

static int make_workdir(struct tg_qemu *q, const struct tg_qemu_config *cfg,
			char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char logdir[PATH_MAX], dir[PATH_MAX];

	strf(q->workdir, sizeof(q->workdir), "%s/teegate-qemu-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(q->workdir)) {
		q->workdir[0] = 0;
		return fail(err, errlen, TG_QEMU_ESYS,
			    "cannot create a work directory in %s: %s",
			    tmp && *tmp ? tmp : "/tmp", strerror(errno));
	}
	/* QEMU runs in the work dir: every path we give it is absolute. */
	if (!realpath(q->workdir, dir))
		return fail(err, errlen, TG_QEMU_ESYS, "cannot resolve %s: %s",
			    q->workdir, strerror(errno));
	strf(q->workdir, sizeof(q->workdir), "%s", dir);
	q->logs_in_workdir = !cfg->log_dir || !*cfg->log_dir;
	if (q->logs_in_workdir) {
		strf(logdir, sizeof(logdir), "%s", q->workdir);
	} else if ((mkdir(cfg->log_dir, 0755) && errno != EEXIST) ||
		   !realpath(cfg->log_dir, logdir)) {
		return fail(err, errlen, TG_QEMU_ESYS,
			    "cannot create log directory %s: %s",
			    cfg->log_dir, strerror(errno));
	}
	strf(q->nw_log, sizeof(q->nw_log), "%s/nw.log", logdir);
	strf(q->sw_log, sizeof(q->sw_log), "%s/sw.log", logdir);
	strf(q->qemu_log, sizeof(q->qemu_log), "%s/qemu.log", logdir);
	return TG_QEMU_OK;
}

/* Remove what we put in the work dir (never anything of the user's). */
static void remove_workdir(struct tg_qemu *q)
{
	static const char *const ours[] = {
		"bl1.bin",  "bl2.bin",         "bl31.bin",
		"bl32.bin", "bl32_extra1.bin", "bl32_extra2.bin",
		"bl33.bin", "relay.elf",       "flash.bin",
		"nw.log",   "sw.log",          "qemu.log",
	};
	char path[TG_QEMU_PATH_MAX];
	size_t i;

	if (!q->workdir[0])
		return;
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (!q->logs_in_workdir && strstr(ours[i], ".log"))
			continue;
		strf(path, sizeof(path), "%s/%s", q->workdir, ours[i]);
		unlink(path);
	}
	rmdir(q->workdir);
	q->workdir[0] = 0;
}

static int check_config(const struct tg_qemu_config *cfg, uint64_t *ram,
			uint32_t *cpus, uint32_t *gic, char *err,
			size_t errlen)
{
	*ram = cfg->ram_size ? cfg->ram_size : TG_QEMU_DEFAULT_RAM_SIZE;
	*cpus = cfg->cpus ? cfg->cpus : TG_QEMU_DEFAULT_CPUS;
	*gic = cfg->gic_version ? cfg->gic_version : 2;
	if (*ram < (1ull << 30) || *ram % (2ull << 20) || *ram > (2ull << 30))
		return fail(err, errlen, TG_QEMU_EINVAL,
			    "RAM size %llu MiB not supported: use 1024..2048 "
			    "MiB in steps of 2 MiB (the relay sits at "
			    "0x60000000, the mailbox near the top)",
			    (unsigned long long)(*ram >> 20));
	if (*cpus > TG_QEMU_MAX_CPUS)
		return fail(err, errlen, TG_QEMU_EINVAL,
			    "%u CPUs: TF-A's qemu platform has at most %u",
			    *cpus, TG_QEMU_MAX_CPUS);
	if (*gic != 2 && *gic != 3)
		return fail(err, errlen, TG_QEMU_EINVAL,
			    "GIC version %u: use 2 (TF-A's default) or 3",
			    *gic);
	return TG_QEMU_OK;
}

const char *tg_qemu_oracle_plugin_path(void)
{
	return TG_QEMU_ORACLE_PLUGIN;
}

static int check_oracle(const struct tg_qemu_config *cfg, char *plugin,
			size_t len, char *err, size_t errlen)
{
	const char *p = cfg->oracle_plugin && *cfg->oracle_plugin
				? cfg->oracle_plugin
				: TG_QEMU_ORACLE_PLUGIN;

	if (cfg->oracle_nranges > TG_ORACLE_MAX_RANGES ||
	    (cfg->oracle_nranges && !cfg->oracle_ranges))
		return fail(err, errlen, TG_QEMU_EINVAL,
			    "%u oracle code ranges: at most %u",
			    cfg->oracle_nranges, TG_ORACLE_MAX_RANGES);
	if (!*p || !realpath(p, plugin) || access(plugin, R_OK) ||
	    strlen(plugin) >= len)
		return fail(err, errlen, TG_QEMU_ENOORACLE,
			    "oracle plugin %s not found or unreadable: build "
			    "teegate (make builds tg-oracle.so), or run "
			    "without the oracle",
			    *p ? p : "tg-oracle.so");
	return TG_QEMU_OK;
}

/*
 * The oracle table: every page FREE, but the regions that are nobody's
 * (device tree, OP-TEE's reserved SHM, relay, mailbox) RESERVED, and the
 * probe port's pool MEDIATOR (its shadow pages). A hosted machine then
 * takes the entries over as its page metadata (tg_qemu_oracle_pages()).
 */
static int make_oracle(struct tg_qemu *q, const struct tg_qemu_config *cfg,
		       const char *plugin, uint32_t cpus, char *err,
		       size_t errlen)
{
	struct tg_mem_region r[8];
	uint32_t i, n, mode = TG_ORACLE_MODE_ACCESS;

	if (cfg->oracle_nranges)
		mode |= TG_ORACLE_MODE_RANGES;
	if (tg_oracle_table_create(TG_QEMU_RAM_BASE, q->ram_size, cpus, mode,
				   &q->oracle, &q->oracle_fd))
		return fail(err, errlen, TG_QEMU_ESYS,
			    "cannot create the oracle table: %s",
			    strerror(errno));
	strf(q->oracle_plugin, sizeof(q->oracle_plugin), "%s", plugin);
	n = tg_qemu_reserved(q, r, 8);
	for (i = 0; i < n && i < 8; i++)
		tg_oracle_table_set_owner(q->oracle, r[i].base, r[i].size,
					  TG_ORACLE_OWNER_RESERVED);
	tg_oracle_table_set_owner(q->oracle,
				  q->mailbox_pa + TG_RELAY_MAILBOX_SIZE,
				  TG_QEMU_POOL_PAGES * 4096ull,
				  TG_ORACLE_OWNER_MEDIATOR);
	for (i = 0; i < cfg->oracle_nranges; i++) {
		q->oracle->ranges[i].lo = cfg->oracle_ranges[i].lo;
		q->oracle->ranges[i].hi = cfg->oracle_ranges[i].hi;
	}
	q->oracle->nranges = cfg->oracle_nranges;
	return TG_QEMU_OK;
}

/* The relay runs: the plugin must have attached and found NS RAM. */
static int oracle_attached(struct tg_qemu *q, char *err, size_t errlen)
{
	struct tg_qemu_oracle_stats st;
	char qm[400];

	tg_oracle_table_stats(q->oracle, &st);
	if (st.running)
		return TG_QEMU_OK;
	log_tail(q->log_fd[TG_QEMU_LOG_QEMU], 2, qm, sizeof(qm));
	if (st.broken)
		return fail(err, errlen, TG_QEMU_ENOORACLE,
			    "the oracle plugin cannot check this QEMU: %s",
			    st.why);
	return fail(err, errlen, TG_QEMU_ENOORACLE,
		    "QEMU ran without the oracle plugin attached (does this "
		    "QEMU support -plugin?): qemu: %s",
		    qm);
}

int tg_qemu_start(const struct tg_qemu_config *cfg, struct tg_qemu **out,
		  char *err, size_t errlen)
{
	static const struct tg_qemu_config defaults;
	enum firmware_form form = FW_NONE;
	char qemu[TG_QEMU_PATH_MAX], bios[TG_QEMU_PATH_MAX];
	char relay_dst[TG_QEMU_PATH_MAX], plugin[TG_QEMU_PATH_MAX];
	const char *relay_dir;
	struct qemu_argv *argv = NULL;
	struct tg_qemu *q;
	uint32_t cpus, gic, i;
	uint64_t ram;
	double t0;
	void *map;
	int rc;

	if (err && errlen)
		err[0] = 0;
	if (!out)
		return fail(err, errlen, TG_QEMU_EINVAL, "no output handle");
	*out = NULL;
	if (!cfg)
		cfg = &defaults;
	rc = check_config(cfg, &ram, &cpus, &gic, err, errlen);
	if (rc)
		return rc;
	if (!find_program(cfg->qemu_path ? cfg->qemu_path
					 : "qemu-system-aarch64",
			  qemu, sizeof(qemu)))
		return fail(err, errlen, TG_QEMU_ENOQEMU,
			    "%s not found: install QEMU (Debian package "
			    "qemu-system-arm)",
			    cfg->qemu_path ? cfg->qemu_path
					   : "qemu-system-aarch64");
	if (!cfg->no_secure) {
		rc = detect_firmware(cfg->firmware_dir, &form, err, errlen);
		if (rc)
			return rc;
	}
	relay_dir = cfg->relay_dir && *cfg->relay_dir ? cfg->relay_dir
						      : TG_QEMU_RELAY_DIR;
	if (cfg->oracle) {
		rc = check_oracle(cfg, plugin, sizeof(plugin), err, errlen);
		if (rc)
			return rc;
	}

	q = calloc(1, sizeof(*q));
	argv = calloc(1, sizeof(*argv));
	if (!q || !argv) {
		free(q);
		free(argv);
		return fail(err, errlen, TG_QEMU_ESYS, "out of memory");
	}
	q->ram_fd = -1;
	q->oracle_fd = -1;
	q->spawner_quit[0] = q->spawner_quit[1] = -1;
	for (i = 0; i < TG_QEMU_NLOGS; i++)
		q->log_fd[i] = -1;
	q->ram_size = ram;
	q->ncpus = cpus;
	q->mailbox_pa = TG_QEMU_RAM_BASE + ram - TG_QEMU_TOP_SIZE;
	for (i = 0; i < TG_QEMU_MAX_CPUS; i++)
		pthread_mutex_init(&q->cpu[i].lock, NULL);
	pthread_mutex_init(&q->pool_lock, NULL);

	rc = make_workdir(q, cfg, err, errlen);
	if (!rc)
		rc = open_logs(q, err, errlen);
	if (rc)
		goto err;
	strf(relay_dst, sizeof(relay_dst), "%s/%s", q->workdir,
		 form == FW_NONE ? "relay.elf" : "bl33.bin");
	rc = install_relay(q, relay_dir, form == FW_NONE, cpus, relay_dst,
			   err, errlen);
	if (rc)
		goto err;
	switch (form) {
	case FW_NONE:
		break;
	case FW_FLASH:
		if (!realpath(cfg->firmware_dir, bios) ||
		    strlen(bios) + 11 > sizeof(bios)) {
			rc = fail(err, errlen, TG_QEMU_ENOFIRMWARE,
				  "cannot resolve %s", cfg->firmware_dir);
			goto err;
		}
		strcat(bios, "/flash.bin");
		break;
	case FW_BL1_FIP:
		strf(bios, sizeof(bios), "%s/flash.bin", q->workdir);
		rc = assemble_flash(cfg->firmware_dir, bios, err, errlen);
		if (rc)
			goto err;
		break;
	case FW_SEMIHOSTING:
		rc = link_firmware(cfg->firmware_dir, q->workdir, err, errlen);
		if (rc)
			goto err;
		strf(bios, sizeof(bios), "bl1.bin");
		break;
	}

	q->ram_fd = memfd_create("teegate-qemu-ram", MFD_CLOEXEC);
	if (q->ram_fd < 0 || ftruncate(q->ram_fd, (off_t)ram)) {
		rc = fail(err, errlen, TG_QEMU_ESYS,
			  "cannot create %llu MiB of shared RAM: %s",
			  (unsigned long long)(ram >> 20), strerror(errno));
		goto err;
	}
	map = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_SHARED, q->ram_fd,
		   0);
	if (map == MAP_FAILED) {
		rc = fail(err, errlen, TG_QEMU_ESYS, "cannot map RAM: %s",
			  strerror(errno));
		goto err;
	}
	q->ram = map;
	q->mb = (volatile struct tg_relay_mailbox *)(q->ram + q->mailbox_pa -
						     TG_QEMU_RAM_BASE);
	if (cfg->oracle) {
		rc = make_oracle(q, cfg, plugin, cpus, err, errlen);
		if (rc)
			goto err;
	}

	build_argv(argv, qemu, q, form, cpus, gic, bios);
	t0 = now_ms();
	rc = spawn_qemu(q, argv->argv, err, errlen);
	if (rc)
		goto err;

	rc = wait_ready(q, cpus,
			cfg->timeout_ms ? cfg->timeout_ms
					: TG_QEMU_DEFAULT_TIMEOUT_MS,
			t0, err, errlen);
	if (rc)
		goto err;
	q->boot_ms = now_ms() - t0;
	if (q->oracle) {
		rc = oracle_attached(q, err, errlen);
		if (rc)
			goto err;
		/* Boot is over (OP-TEE edits the DTB in NS RAM): count now. */
		tg_qemu_oracle_arm(q, true);
	}
	/*
	 * BL2 has loaded every image and QEMU holds its log files open:
	 * nothing needs the work dir any more, and a crash from here on
	 * leaves nothing behind.
	 */
	remove_workdir(q);
	tg_qemu_client_init(q);
	free(argv);
	*out = q;
	return TG_QEMU_OK;
err:
	free(argv);
	tg_qemu_stop(q);
	return rc;
}

void tg_qemu_stop(struct tg_qemu *q)
{
	uint32_t i;

	if (!q)
		return;
	if (q->pid > 0 && !q->reaped) {
		kill(q->pid, SIGKILL);
		while (waitpid(q->pid, NULL, 0) < 0 && errno == EINTR)
			;
		q->reaped = true;
	}
	if (q->spawner_quit[1] >= 0)
		close(q->spawner_quit[1]); /* the spawner sees EOF and ends */
	if (q->have_spawner)
		pthread_join(q->spawner, NULL);
	if (q->spawner_quit[0] >= 0)
		close(q->spawner_quit[0]);
	if (q->ram)
		munmap(q->ram, q->ram_size);
	if (q->ram_fd >= 0)
		close(q->ram_fd);
	tg_oracle_table_destroy(q->oracle, q->oracle_fd);
	remove_workdir(q);
	for (i = 0; i < TG_QEMU_NLOGS; i++)
		if (q->log_fd[i] >= 0)
			close(q->log_fd[i]);
	for (i = 0; i < TG_QEMU_MAX_CPUS; i++)
		pthread_mutex_destroy(&q->cpu[i].lock);
	pthread_mutex_destroy(&q->pool_lock);
	free(q);
}

void tg_qemu_ram(const struct tg_qemu *q, uint64_t *pa_base, uint64_t *size,
		 void **ptr)
{
	if (pa_base)
		*pa_base = TG_QEMU_RAM_BASE;
	if (size)
		*size = q->ram_size;
	if (ptr)
		*ptr = q->ram;
}

int tg_qemu_ram_fd(const struct tg_qemu *q, char *path, size_t pathlen)
{
	if (path && pathlen)
		strf(path, pathlen, "/proc/self/fd/%d", q->ram_fd);
	return q->ram_fd;
}

uint32_t tg_qemu_reserved(const struct tg_qemu *q, struct tg_mem_region *out,
			  uint32_t max)
{
	const struct tg_mem_region regions[] = {
		{ TG_QEMU_DTB_PA, TG_QEMU_DTB_SIZE, "device tree" },
		{ TG_QEMU_OPTEE_SHM_PA, TG_QEMU_OPTEE_SHM_SIZE,
		  "OP-TEE reserved SHM" },
		{ TG_RELAY_LOAD_PA,
		  (q->relay_size + TG_PAGE_SIZE - 1) & ~(uint64_t)TG_PAGE_MASK,
		  "relay firmware" },
		{ q->mailbox_pa, TG_QEMU_TOP_SIZE,
		  "relay mailbox and probe-port pool" },
	};
	uint32_t n = sizeof(regions) / sizeof(regions[0]);
	uint32_t i;

	for (i = 0; i < n && i < max; i++)
		out[i] = regions[i];
	return n;
}

int tg_qemu_machine_memory(const struct tg_qemu *q,
			   struct tg_machine_config *cfg,
			   struct tg_mem_region *regions, uint32_t max,
			   char *path, size_t pathlen)
{
	uint32_t n = tg_qemu_reserved(q, regions, max);

	if (n > max || !strf(path, pathlen, "/proc/self/fd/%d", q->ram_fd))
		return TG_EINVAL;
	cfg->ram_base = TG_QEMU_RAM_BASE;
	cfg->ram_size = q->ram_size;
	cfg->backing = TG_BACKING_FILE;
	cfg->backing_path = path;
	cfg->reserved = regions;
	cfg->nreserved = n;
	return TG_OK;
}

uint32_t tg_qemu_cpus(const struct tg_qemu *q)
{
	return q->ncpus;
}

double tg_qemu_boot_ms(const struct tg_qemu *q)
{
	return q->boot_ms;
}

static int log_index(const char *which)
{
	if (!strcmp(which, "nw"))
		return TG_QEMU_LOG_NW;
	if (!strcmp(which, "sw"))
		return TG_QEMU_LOG_SW;
	if (!strcmp(which, "qemu"))
		return TG_QEMU_LOG_QEMU;
	return -1;
}

const char *tg_qemu_log_path(const struct tg_qemu *q, const char *which)
{
	const char *paths[TG_QEMU_NLOGS] = { q->nw_log, q->sw_log,
					     q->qemu_log };
	int i = log_index(which);

	return i < 0 || q->logs_in_workdir ? NULL : paths[i];
}

void tg_qemu_log_tail(const struct tg_qemu *q, const char *which, int lines,
		      char *out, size_t outlen)
{
	int i = log_index(which);

	if (i < 0) {
		strf(out, outlen, "(no such log)");
		return;
	}
	log_tail(q->log_fd[i], lines > 0 ? lines : 1, out, outlen);
}

int tg_qemu_pid(const struct tg_qemu *q)
{
	return q->pid;
}

const char *tg_qemu_strerror(int e)
{
	switch (e) {
	case TG_QEMU_OK: return "ok";
	case TG_QEMU_EINVAL: return "bad configuration";
	case TG_QEMU_ENOQEMU: return "QEMU not installed";
	case TG_QEMU_ENOFIRMWARE: return "firmware missing or incomplete";
	case TG_QEMU_ENORELAY: return "relay firmware missing";
	case TG_QEMU_EDIED: return "QEMU died during boot";
	case TG_QEMU_ETIMEOUT: return "relay not ready in time";
	case TG_QEMU_EPROTO: return "protocol mismatch";
	case TG_QEMU_ESYS: return "system error";
	case TG_QEMU_ENOTEE: return "no OP-TEE answered";
	case TG_QEMU_ENOVIRT: return "OP-TEE without virtualization";
	case TG_QEMU_ENOORACLE: return "oracle plugin not working";
	}
	return "unknown error";
}
