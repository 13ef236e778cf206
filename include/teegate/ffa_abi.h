/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Arm Firmware Framework for A-profile (FF-A) v1.1/v1.2, the parts a
 * hypervisor, a normal-world driver and an SPMC that hosts OP-TEE use;
 * and OP-TEE's own message protocol over FF-A direct requests
 * (OPTEE_FFA_*).
 *
 * Sources (facts, not code): the FF-A specification (DEN0077A v1.1 and
 * v1.2), Linux's drivers/firmware/arm_ffa and include/linux/arm_ffa.h,
 * OP-TEE 4.10's core/arch/arm/include/ffa.h and optee_ffa.h. Freestanding:
 * the mediator includes this file.
 *
 * Every register is 64 bits wide here; the SMC32 forms use the low 32.
 * Descriptor structures are exactly the in-memory layouts (little endian,
 * natural alignment); the static assertions at the end pin their sizes.
 */
#ifndef TEEGATE_FFA_ABI_H
#define TEEGATE_FFA_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ---------------------------------------------------------- */

#define FFA_VERSION_MAJOR_SHIFT 16u
#define FFA_VERSION_MAJOR_MASK 0x7FFFu
#define FFA_VERSION_MINOR_MASK 0xFFFFu
#define FFA_MAKE_VERSION(major, minor)                                       \
	((((uint32_t)(major) & FFA_VERSION_MAJOR_MASK)                       \
	  << FFA_VERSION_MAJOR_SHIFT) |                                      \
	 ((uint32_t)(minor) & FFA_VERSION_MINOR_MASK))
#define FFA_VERSION_MAJOR(v) \
	(((uint32_t)(v) >> FFA_VERSION_MAJOR_SHIFT) & FFA_VERSION_MAJOR_MASK)
#define FFA_VERSION_MINOR(v) ((uint32_t)(v) & FFA_VERSION_MINOR_MASK)
#define FFA_VERSION_1_0 FFA_MAKE_VERSION(1, 0)
#define FFA_VERSION_1_1 FFA_MAKE_VERSION(1, 1)
#define FFA_VERSION_1_2 FFA_MAKE_VERSION(1, 2)
/* FFA_VERSION's input must have bit 31 clear; the answer too. */
#define FFA_VERSION_MBZ_BIT 0x80000000u

/* ---- Function ids ------------------------------------------------------ */

/* Fast SMC32 (0x84...) and SMC64 (0xC4...) forms, owner "standard". */
#define FFA_FN_32(n) (0x84000000u | (n))
#define FFA_FN_64(n) (0xC4000000u | (n))
/* The FF-A range: function numbers 0x60..0xFF of owner 4. */
#define FFA_FN_NUM(fid) ((uint32_t)(fid) & 0xFFFFu)
#define FFA_FN_IS_64(fid) (((uint32_t)(fid) & 0x40000000u) != 0)
#define FFA_FN_FIRST 0x60u
#define FFA_FN_LAST 0xFFu
#define FFA_IS_FFA_FID(fid)                                        \
	((((uint32_t)(fid) & 0xBFFF0000u) == 0x84000000u) &&       \
	 FFA_FN_NUM(fid) >= FFA_FN_FIRST && FFA_FN_NUM(fid) <= FFA_FN_LAST)

#define FFA_ERROR FFA_FN_32(0x60)
#define FFA_SUCCESS_32 FFA_FN_32(0x61)
#define FFA_SUCCESS_64 FFA_FN_64(0x61)
#define FFA_INTERRUPT FFA_FN_32(0x62)
#define FFA_VERSION FFA_FN_32(0x63)
#define FFA_FEATURES FFA_FN_32(0x64)
#define FFA_RX_RELEASE FFA_FN_32(0x65)
#define FFA_RXTX_MAP_32 FFA_FN_32(0x66)
#define FFA_RXTX_MAP_64 FFA_FN_64(0x66)
#define FFA_RXTX_UNMAP FFA_FN_32(0x67)
#define FFA_PARTITION_INFO_GET FFA_FN_32(0x68)
#define FFA_ID_GET FFA_FN_32(0x69)
#define FFA_MSG_POLL FFA_FN_32(0x6A)
#define FFA_MSG_WAIT FFA_FN_32(0x6B)
#define FFA_YIELD FFA_FN_32(0x6C)
#define FFA_RUN FFA_FN_32(0x6D)
#define FFA_MSG_SEND FFA_FN_32(0x6E)
#define FFA_MSG_SEND_DIRECT_REQ_32 FFA_FN_32(0x6F)
#define FFA_MSG_SEND_DIRECT_REQ_64 FFA_FN_64(0x6F)
#define FFA_MSG_SEND_DIRECT_RESP_32 FFA_FN_32(0x70)
#define FFA_MSG_SEND_DIRECT_RESP_64 FFA_FN_64(0x70)
#define FFA_MEM_DONATE_32 FFA_FN_32(0x71)
#define FFA_MEM_DONATE_64 FFA_FN_64(0x71)
#define FFA_MEM_LEND_32 FFA_FN_32(0x72)
#define FFA_MEM_LEND_64 FFA_FN_64(0x72)
#define FFA_MEM_SHARE_32 FFA_FN_32(0x73)
#define FFA_MEM_SHARE_64 FFA_FN_64(0x73)
#define FFA_MEM_RETRIEVE_REQ_32 FFA_FN_32(0x74)
#define FFA_MEM_RETRIEVE_REQ_64 FFA_FN_64(0x74)
#define FFA_MEM_RETRIEVE_RESP FFA_FN_32(0x75)
#define FFA_MEM_RELINQUISH FFA_FN_32(0x76)
#define FFA_MEM_RECLAIM FFA_FN_32(0x77)
#define FFA_MEM_OP_PAUSE FFA_FN_32(0x78)
#define FFA_MEM_OP_RESUME FFA_FN_32(0x79)
#define FFA_MEM_FRAG_RX FFA_FN_32(0x7A)
#define FFA_MEM_FRAG_TX FFA_FN_32(0x7B)
#define FFA_NORMAL_WORLD_RESUME FFA_FN_32(0x7C)
#define FFA_NOTIFICATION_BITMAP_CREATE FFA_FN_32(0x7D)
#define FFA_NOTIFICATION_BITMAP_DESTROY FFA_FN_32(0x7E)
#define FFA_NOTIFICATION_BIND FFA_FN_32(0x7F)
#define FFA_NOTIFICATION_UNBIND FFA_FN_32(0x80)
#define FFA_NOTIFICATION_SET FFA_FN_32(0x81)
#define FFA_NOTIFICATION_GET FFA_FN_32(0x82)
#define FFA_NOTIFICATION_INFO_GET_32 FFA_FN_32(0x83)
#define FFA_NOTIFICATION_INFO_GET_64 FFA_FN_64(0x83)
#define FFA_RX_ACQUIRE FFA_FN_32(0x84)
#define FFA_SPM_ID_GET FFA_FN_32(0x85)
#define FFA_MSG_SEND2 FFA_FN_32(0x86)
/* FFA_MSG_SEND2 w2: bit 1 delays the schedule receiver interrupt (v1.2);
 * the other bits are MBZ. */
#define FFA_MSG_SEND2_FLAG_DELAY_SRI (1u << 1)
#define FFA_SECONDARY_EP_REGISTER_64 FFA_FN_64(0x87)
#define FFA_MEM_PERM_GET_32 FFA_FN_32(0x88)
#define FFA_MEM_PERM_SET_32 FFA_FN_32(0x89)
#define FFA_CONSOLE_LOG_32 FFA_FN_32(0x8A)
#define FFA_CONSOLE_LOG_64 FFA_FN_64(0x8A)
#define FFA_PARTITION_INFO_GET_REGS FFA_FN_64(0x8B)
#define FFA_EL3_INTR_HANDLE FFA_FN_32(0x8C)
#define FFA_MSG_SEND_DIRECT_REQ2 FFA_FN_64(0x8D)
#define FFA_MSG_SEND_DIRECT_RESP2 FFA_FN_64(0x8E)

/* ---- Status codes (in w2 of FFA_ERROR) -------------------------------- */

#define FFA_RET_OK 0
#define FFA_RET_NOT_SUPPORTED (-1)
#define FFA_RET_INVALID_PARAMETERS (-2)
#define FFA_RET_NO_MEMORY (-3)
#define FFA_RET_BUSY (-4)
#define FFA_RET_INTERRUPTED (-5)
#define FFA_RET_DENIED (-6)
#define FFA_RET_RETRY (-7)
#define FFA_RET_ABORTED (-8)
#define FFA_RET_NO_DATA (-9)

/* ---- Endpoint ids ------------------------------------------------------ */

/* Bit 15 set: a secure-world endpoint. The hypervisor (or a kernel
 * without one) is 0 in the normal world. */
#define FFA_ID_SECURE_BIT 0x8000u
#define FFA_ID_IS_SECURE(id) (((uint32_t)(id) & FFA_ID_SECURE_BIT) != 0)
#define FFA_HYP_ID 0u

/* w1 of direct messages and notification calls: sender | receiver. */
#define FFA_SENDER(w1) ((uint16_t)((uint32_t)(w1) >> 16))
#define FFA_RECEIVER(w1) ((uint16_t)((uint32_t)(w1) & 0xFFFFu))
#define FFA_PACK_IDS(sender, receiver) \
	(((uint32_t)(uint16_t)(sender) << 16) | (uint16_t)(receiver))
/* w1 of FFA_RUN / FFA_INTERRUPT: endpoint id in 31:16, vCPU in 15:0. */
#define FFA_TARGET_INFO(id, vcpu) FFA_PACK_IDS(id, vcpu)

/* ---- FFA_FEATURES ------------------------------------------------------ */

/* Feature ids (w1 bit 31 clear): interrupt ids. */
#define FFA_FEATURE_NOTIF_PEND_INTR 0x1u
#define FFA_FEATURE_SCHEDULE_RECV_INTR 0x2u
#define FFA_FEATURE_MANAGED_EXIT_INTR 0x3u
/* FFA_FEATURES(RXTX_MAP) w2 bits 1:0: minimum buffer size. */
#define FFA_FEAT_RXTX_MIN_4K 0x0u
#define FFA_FEAT_RXTX_MIN_64K 0x1u
#define FFA_FEAT_RXTX_MIN_16K 0x2u
/* FFA_FEATURES(MEM_SHARE/LEND) w2 bit 0: descriptor in a buffer of the
 * caller's (address in w3) is supported. */
#define FFA_FEAT_MEM_DYN_BUFFER 0x1u

/* ---- RX/TX buffers ----------------------------------------------------- */

/* FFA_RXTX_MAP w3: page count in 5:0 (4 KiB pages), the rest MBZ. */
#define FFA_RXTX_PAGE_COUNT_MASK 0x3Fu
#define FFA_RXTX_MAX_PAGES 63u

/* ---- Partition discovery ----------------------------------------------- */

/* FFA_PARTITION_INFO_GET w5 flag: return the count only. */
#define FFA_PARTITION_INFO_GET_COUNT_ONLY 0x1u

/* Partition properties (v1.1). */
#define FFA_PART_PROP_DIRECT_REQ_RECV (1u << 0)
#define FFA_PART_PROP_DIRECT_REQ_SEND (1u << 1)
#define FFA_PART_PROP_INDIRECT_MSGS (1u << 2)
#define FFA_PART_PROP_RECV_NOTIF (1u << 3)
#define FFA_PART_PROP_ID_TYPE_MASK (3u << 4)
#define FFA_PART_PROP_IS_PE_ID (0u << 4)
#define FFA_PART_PROP_IS_SEPID_INDEP (1u << 4)
#define FFA_PART_PROP_IS_SEPID_DEP (2u << 4)
#define FFA_PART_PROP_IS_AUX_ID (3u << 4)
#define FFA_PART_PROP_NOTIF_VM_CREATED (1u << 6)
#define FFA_PART_PROP_NOTIF_VM_DESTROYED (1u << 7)
#define FFA_PART_PROP_AARCH64_STATE (1u << 8)
/* v1.2 */
#define FFA_PART_PROP_DIRECT_REQ2_RECV (1u << 9)
#define FFA_PART_PROP_DIRECT_REQ2_SEND (1u << 10)

/* Partition information descriptor, v1.1 and later (v1.0: 8 bytes,
 * without the UUID). */
struct ffa_partition_info {
	uint16_t id;
	uint16_t exec_ctx_count;
	uint32_t properties;
	uint8_t uuid[16]; /* as four little-endian words w1..w4 */
};
#define FFA_PARTITION_INFO_SIZE_1_0 8u
#define FFA_PARTITION_INFO_SIZE 24u

/* FFA_PARTITION_INFO_GET_REGS: w2 = start index (15:0) | tag (31:16);
 * answer w2 = last index (15:0) | current index (31:16) | tag (47:32) |
 * descriptor size (63:48); three registers per partition from w3. */
#define FFA_PART_INFO_REGS_PER_CALL 5u

/* ---- Direct messages --------------------------------------------------- */

/* w2 of direct requests/responses: framework message flag and type. */
#define FFA_MSG_FLAG_FRAMEWORK (1u << 31)
#define FFA_MSG_TYPE_MASK 0xFFu
#define FFA_MSG_PSCI 0x0u
#define FFA_MSG_SEND_VM_CREATED 0x4u
#define FFA_MSG_RESP_VM_CREATED 0x5u
#define FFA_MSG_SEND_VM_DESTROYED 0x6u
#define FFA_MSG_RESP_VM_DESTROYED 0x7u
#define FFA_MSG_VERSION_REQ 0x8u
#define FFA_MSG_VERSION_RESP 0x9u

/* ---- Memory management ------------------------------------------------- */

#define FFA_PAGE_SIZE 4096u

/* Memory region attributes (v1.1: 16 bits; v1.0: 8 bits). */
#define FFA_MEM_TYPE_SHIFT 4u
#define FFA_MEM_TYPE_MASK (3u << 4)
#define FFA_MEM_TYPE_NOT_SPECIFIED (0u << 4)
#define FFA_MEM_TYPE_DEVICE (1u << 4)
#define FFA_MEM_TYPE_NORMAL (2u << 4)
#define FFA_MEM_CACHE_MASK (3u << 2)
#define FFA_MEM_NON_CACHEABLE (1u << 2)
#define FFA_MEM_WRITE_BACK (3u << 2)
#define FFA_MEM_SHARE_MASK 3u
#define FFA_MEM_NON_SHAREABLE 0u
#define FFA_MEM_OUTER_SHAREABLE 2u
#define FFA_MEM_INNER_SHAREABLE 3u
/* v1.1 bit 6: non-secure (set by the relayer in a retrieve response). */
#define FFA_MEM_ATTR_NS (1u << 6)
/* Normal, write-back, inner shareable: what Linux and OP-TEE use. */
#define FFA_MEM_ATTR_NORMAL_WB_IS                            \
	(FFA_MEM_TYPE_NORMAL | FFA_MEM_WRITE_BACK | FFA_MEM_INNER_SHAREABLE)

/* Memory access permissions (one byte per receiver). */
#define FFA_MEM_DATA_MASK 3u
#define FFA_MEM_DATA_NOT_SPECIFIED 0u
#define FFA_MEM_DATA_RO 1u
#define FFA_MEM_DATA_RW 2u
#define FFA_MEM_INSTR_MASK (3u << 2)
#define FFA_MEM_INSTR_NOT_SPECIFIED (0u << 2)
#define FFA_MEM_INSTR_NX (1u << 2)
#define FFA_MEM_INSTR_X (2u << 2)
#define FFA_MEM_PERM_RESERVED_MASK 0xF0u
/* Flags of a memory access permissions descriptor. */
#define FFA_MEM_ACC_FLAG_NON_RETRIEVAL_BORROWER 0x1u

/* Transaction flags of FFA_MEM_SHARE / LEND / DONATE (w/o retrieve). */
#define FFA_MEM_FLAG_ZERO_MEMORY (1u << 0)
#define FFA_MEM_FLAG_TIME_SLICE (1u << 1)
/* Retrieve flags: type in 4:3. */
#define FFA_MEM_FLAG_ZERO_AFTER_RELINQUISH (1u << 2)
#define FFA_MEM_FLAG_TYPE_MASK (3u << 3)
#define FFA_MEM_FLAG_TYPE_SHARE (1u << 3)
#define FFA_MEM_FLAG_TYPE_LEND (2u << 3)
#define FFA_MEM_FLAG_TYPE_DONATE (3u << 3)

/* Memory handles: bit 63 = allocated by the hypervisor; 0 = by the SPMC.
 * OP-TEE's S-EL1 SPMC allocates index | bit 44 | guest id << 16. */
#define FFA_HANDLE_HYPERVISOR_BIT (1ull << 63)
#define FFA_HANDLE_INVALID 0xFFFFFFFFFFFFFFFFull
#define FFA_HANDLE_LO(h) ((uint32_t)(h))
#define FFA_HANDLE_HI(h) ((uint32_t)((uint64_t)(h) >> 32))
#define FFA_HANDLE_PACK(lo, hi) \
	(((uint64_t)(uint32_t)(hi) << 32) | (uint32_t)(lo))

/* FFA_MEM_RECLAIM w3 flags. */
#define FFA_RECLAIM_FLAG_ZERO 0x1u
#define FFA_RECLAIM_FLAG_TIME_SLICE 0x2u

/* Constituent memory region descriptor: 16 bytes. */
struct ffa_mem_constituent {
	uint64_t address; /* 4 KiB aligned */
	uint32_t page_count;
	uint32_t reserved;
};

/* Composite memory region descriptor: 16 bytes, then the constituents. */
struct ffa_mem_composite {
	uint32_t total_page_count;
	uint32_t constituent_count;
	uint64_t reserved;
	/* struct ffa_mem_constituent constituents[]; */
};

/* Memory access permissions descriptor: 4 bytes. */
struct ffa_mem_perm {
	uint16_t endpoint_id;
	uint8_t perm;
	uint8_t flags;
};

/* Endpoint memory access descriptor, v1.0 and v1.1: 16 bytes. */
struct ffa_mem_access_1_1 {
	struct ffa_mem_perm perm;
	uint32_t composite_offset; /* from the start of the descriptor */
	uint64_t reserved;
};

/* Endpoint memory access descriptor, v1.2: 32 bytes. */
struct ffa_mem_access_1_2 {
	struct ffa_mem_perm perm;
	uint32_t composite_offset;
	uint8_t impdef[16];
	uint64_t reserved;
};

/* Memory transaction descriptor, v1.0 header: 32 bytes, then the
 * endpoint memory access array at offset 32 (16-byte entries). */
struct ffa_mem_trans_1_0 {
	uint16_t sender_id;
	uint8_t mem_attr;
	uint8_t reserved0;
	uint32_t flags;
	uint64_t handle;
	uint64_t tag;
	uint32_t reserved1;
	uint32_t access_count;
};

/* Memory transaction descriptor, v1.1 and v1.2 header: 48 bytes. The
 * access array is at access_offset (16-byte aligned), access_count
 * entries of access_size bytes (16 in v1.1, 32 in v1.2). */
struct ffa_mem_trans {
	uint16_t sender_id;
	uint16_t mem_attr;
	uint32_t flags;
	uint64_t handle;
	uint64_t tag;
	uint32_t access_size;
	uint32_t access_count;
	uint32_t access_offset;
	uint8_t reserved[12];
};

#define FFA_MEM_TRANS_1_0_SIZE 32u
#define FFA_MEM_TRANS_SIZE 48u
#define FFA_MEM_ACCESS_1_1_SIZE 16u
#define FFA_MEM_ACCESS_1_2_SIZE 32u
#define FFA_MEM_COMPOSITE_SIZE 16u
#define FFA_MEM_CONSTITUENT_SIZE 16u

/* Memory relinquish descriptor (FFA_MEM_RELINQUISH). */
struct ffa_mem_relinquish {
	uint64_t handle;
	uint32_t flags;
	uint32_t endpoint_count;
	/* uint16_t endpoints[]; */
};

/* ---- Notifications ----------------------------------------------------- */

/* FFA_NOTIFICATION_BIND w2: bit 0 = per-vCPU notifications. */
#define FFA_NOTIF_FLAG_PER_VCPU 0x1u
/* FFA_NOTIFICATION_SET w2: bit 0 per-vCPU, bit 1 delay SRI. */
#define FFA_NOTIF_SET_FLAG_DELAY_SRI 0x2u
/* FFA_NOTIFICATION_GET w2: which bitmaps to get. */
#define FFA_NOTIF_GET_FLAG_SP 0x1u
#define FFA_NOTIF_GET_FLAG_VM 0x2u
#define FFA_NOTIF_GET_FLAG_SPM 0x4u
#define FFA_NOTIF_GET_FLAG_HYP 0x8u
/* FFA_NOTIFICATION_INFO_GET w2 in the answer. */
#define FFA_NOTIF_INFO_MORE_PENDING 0x1u
#define FFA_NOTIF_INFO_LIST_COUNT_SHIFT 7u
#define FFA_NOTIF_INFO_LIST_COUNT_MASK 0x1Fu
#define FFA_NOTIF_INFO_LIST_SHIFT 12u
#define FFA_NOTIF_INFO_MAX_IDS_32 10u
#define FFA_NOTIF_INFO_MAX_IDS_64 20u

/* ---- OP-TEE over FF-A (optee_ffa.h, OP-TEE 4.10) ----------------------- */

/*
 * OP-TEE's partition UUID 486178e0-e7f8-11e3-bc5e-0002a5d5c51b, as the
 * four words of FFA_PARTITION_INFO_GET (w1..w4).
 */
#define OPTEE_FFA_UUID_W0 0xe0786148u
#define OPTEE_FFA_UUID_W1 0xe311f8e7u
#define OPTEE_FFA_UUID_W2 0x02005ebcu
#define OPTEE_FFA_UUID_W3 0x1bc5d5a5u

#define OPTEE_FFA_VERSION_MAJOR 1u
#define OPTEE_FFA_VERSION_MINOR 0u

/* Service ids in w3 of a direct request. Bit 31: a yielding call. */
#define OPTEE_FFA_YIELDING_CALL_BIT 0x80000000u
#define OPTEE_FFA_GET_API_VERSION 0u
#define OPTEE_FFA_GET_OS_VERSION 1u
#define OPTEE_FFA_EXCHANGE_CAPABILITIES 2u
#define OPTEE_FFA_UNREGISTER_SHM 3u
#define OPTEE_FFA_ENABLE_ASYNC_NOTIF 5u
#define OPTEE_FFA_RELEASE_PROTMEM 8u
#define OPTEE_FFA_YIELDING_CALL_WITH_ARG (OPTEE_FFA_YIELDING_CALL_BIT | 0u)
#define OPTEE_FFA_YIELDING_CALL_RESUME (OPTEE_FFA_YIELDING_CALL_BIT | 1u)

/* EXCHANGE_CAPABILITIES: w4 bits 7:0 = RPC parameter count, w5 = caps,
 * w6 = the largest async notification value. */
#define OPTEE_FFA_SEC_CAP_ARG_OFFSET (1u << 0)
#define OPTEE_FFA_SEC_CAP_ASYNC_NOTIF (1u << 1)
#define OPTEE_FFA_SEC_CAP_RPMB_PROBE (1u << 2)
#define OPTEE_FFA_SEC_CAP_PROTMEM (1u << 3)
#define OPTEE_FFA_MAX_ASYNC_NOTIF_VALUE 64u

/* Yielding call answers: w3 = error (a TEE_Result), w4 = one of these,
 * w5/w6 RPC words, w7 = resume info (the OP-TEE thread). */
#define OPTEE_FFA_YIELDING_CALL_RETURN_DONE 0u
#define OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD 1u
#define OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT 2u

/* An FMEM parameter with this global id and size 0 is a NULL memref. */
#define OPTEE_MSG_FMEM_INVALID_GLOBAL_ID 0xFFFFFFFFFFFFFFFFull

/*
 * struct optee_msg_param_fmem - the FF-A form of a memory reference
 * parameter (attr types 5..7, the same numbers as RMEM): the same 24
 * bytes as rmem, the offset split to make room for @internal_offs.
 */
struct optee_msg_param_fmem {
	uint32_t offs_low;
	uint16_t offs_high;
	uint16_t internal_offs;
	uint64_t size;
	uint64_t global_id;
};

#define OPTEE_MSG_ATTR_TYPE_FMEM_INPUT 0x5u
#define OPTEE_MSG_ATTR_TYPE_FMEM_OUTPUT 0x6u
#define OPTEE_MSG_ATTR_TYPE_FMEM_INOUT 0x7u

/* ---- Layout checks ----------------------------------------------------- */

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct ffa_partition_info) == FFA_PARTITION_INFO_SIZE,
	       "partition info");
_Static_assert(sizeof(struct ffa_mem_constituent) == FFA_MEM_CONSTITUENT_SIZE,
	       "constituent");
_Static_assert(sizeof(struct ffa_mem_composite) == FFA_MEM_COMPOSITE_SIZE,
	       "composite");
_Static_assert(sizeof(struct ffa_mem_access_1_1) == FFA_MEM_ACCESS_1_1_SIZE,
	       "access 1.1");
_Static_assert(sizeof(struct ffa_mem_access_1_2) == FFA_MEM_ACCESS_1_2_SIZE,
	       "access 1.2");
_Static_assert(sizeof(struct ffa_mem_trans_1_0) == FFA_MEM_TRANS_1_0_SIZE,
	       "transaction 1.0");
_Static_assert(sizeof(struct ffa_mem_trans) == FFA_MEM_TRANS_SIZE,
	       "transaction 1.1");
_Static_assert(sizeof(struct optee_msg_param_fmem) == 24, "fmem");
#endif

/*
 * An FF-A call or answer in w0..w5; w6 and w7 zero (the SMCCC registers
 * every FF-A party here fills the same way).
 */
static inline void ffa_set_regs(uint64_t r[8], uint64_t a0, uint64_t a1,
				uint64_t a2, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	r[0] = a0;
	r[1] = a1;
	r[2] = a2;
	r[3] = a3;
	r[4] = a4;
	r[5] = a5;
	r[6] = 0;
	r[7] = 0;
}

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_FFA_ABI_H */
