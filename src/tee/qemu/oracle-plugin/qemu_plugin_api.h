/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The part of QEMU's TCG plugin API (plugin API version 1, as in QEMU 7.2,
 * Debian 12's qemu-system-arm 1:7.2) that the oracle uses, declared here
 * because Debian ships no qemu-plugin.h. These are declarations of the
 * functions a QEMU with plugin support exports (nm -D qemu-system-aarch64
 * lists them) with the types and constants QEMU 7.2's
 * include/qemu/qemu-plugin.h documents; no QEMU code is copied.
 *
 * QEMU loads a plugin only if it exports qemu_plugin_version (the API
 * version it was written for; 7.2 accepts 1) and qemu_plugin_install().
 *
 * One thing is not part of the API: QEMU 7.2's qemu_plugin_hwaddr_phys_addr()
 * returns RAMBlock offset + offset in block + region address, which for any
 * RAM block but the first is not a physical address (QEMU's virt machine
 * allocates NS RAM first, then flash, then secure RAM, so secure-RAM and
 * flash accesses look like NS RAM addresses). The oracle therefore needs
 * the host address of a RAM access, which QEMU 7.2 keeps in its private
 * struct qemu_plugin_hwaddr (include/qemu/plugin-memory.h):
 *   bool is_io; bool is_store; union { { section *, hwaddr } io;
 *                                     { void *hostaddr; } ram; } v;
 * struct qemu72_hwaddr mirrors that layout. The plugin cross-checks it at
 * run time (docs/real-optee.md, "The oracle") and refuses any other API
 * version.
 */
#ifndef TEEGATE_QEMU_PLUGIN_API_H
#define TEEGATE_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_QEMU_PLUGIN_API 1 /* QEMU 7.2 */

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef uint32_t qemu_plugin_meminfo_t;

typedef struct qemu_info_t {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_plugin_hwaddr;

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_mem_rw {
	QEMU_PLUGIN_MEM_R = 1,
	QEMU_PLUGIN_MEM_W,
	QEMU_PLUGIN_MEM_RW,
};

enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index,
					  qemu_plugin_meminfo_t info,
					  uint64_t vaddr, void *userdata);

/* What the plugin exports. */
QEMU_PLUGIN_EXPORT extern int qemu_plugin_version;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info, int argc,
					   char **argv);

/* What QEMU exports. */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
/* For the per-call counting (calls.c). */
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
				      qemu_plugin_vcpu_mem_cb_t cb,
				      enum qemu_plugin_cb_flags flags,
				      enum qemu_plugin_mem_rw rw,
				      void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
						enum qemu_plugin_op op,
						void *ptr, uint64_t imm);
unsigned int qemu_plugin_mem_size_shift(qemu_plugin_meminfo_t info);
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);
struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info,
						  uint64_t vaddr);
bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr);
uint64_t qemu_plugin_hwaddr_phys_addr(const struct qemu_plugin_hwaddr *haddr);
void qemu_plugin_outs(const char *string);

/* QEMU 7.2's private struct qemu_plugin_hwaddr (see above). */
struct qemu72_hwaddr {
	bool is_io;
	bool is_store;
	union {
		struct {
			void *section;
			uint64_t offset;
		} io;
		struct {
			void *hostaddr;
		} ram;
	} v;
};

#endif /* TEEGATE_QEMU_PLUGIN_API_H */
