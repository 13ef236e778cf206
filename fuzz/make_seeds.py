#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of the fuzz harnesses (fuzz/corpus/*).

Each seed is a small program in the harness's input language (see the
comments at the top of fuzz_smc.c and fuzz_parsers.c), chosen so that the
fuzzer starts from the deep paths: sessions to every pseudo-TA, memrefs
through page lists, registered memory, every RPC kind, RPC answers, and
guests destroyed mid-call.
"""
import os
import struct
import sys

OP_SMC, OP_ANSWER, OP_POKE, OP_MSG, OP_LIST, OP_RESTART = range(6)
# indexes into fuzz_smc.c's tables
FID_CALL_WITH_ARG, FID_CALL_WITH_RPC_ARG, FID_EXCHANGE_CAPS = 6, 18, 9
FID_REGD_ARG, FID_CALLS_UID = 19, 1
A_NONE, A_VIN, A_VOUT, A_VINOUT, A_RIN, A_ROUT, A_RINOUT = range(7)
A_TIN_NC, A_TOUT_NC, A_TINOUT_NC, A_TINOUT_NULL, A_META = 7, 8, 9, 10, 11
U_INVOKE, U_STATS, U_DEVENUM, U_BIGBUF, U_YIELD, U_ABSENT = range(6)
CMD_OPEN, CMD_INVOKE, CMD_CLOSE, CMD_REGISTER, CMD_UNREGISTER = 0, 1, 2, 4, 5


def u8(v):
    return bytes([v & 0xFF])


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def header(inject=0, seed=1):
    return u8(inject) + u64(seed)


def smc(g, fid, page=0, a7=0):
    b = u8(OP_SMC) + u8(g) + u8(fid)
    if fid in (FID_CALL_WITH_ARG, FID_CALL_WITH_RPC_ARG):
        b += u8(3) + u8(page)          # one of the guest's pages
    elif fid == FID_REGD_ARG:
        b += u8(1) + u8(0)             # cookie 1, offset 0
    else:
        b += u8(0) * 6                 # a1..a6 zero
    return b + u8(a7)


def answer(g, page=40, cookie=1):
    # "how" 0: echo the handle; an ALLOC is answered with page/cookie
    return u8(OP_ANSWER) + u8(g) + u8(0) + u8(page) + u8(cookie)


def param(attr, kind, *fields, shm=0, uuid=None):
    b = u8(attr)
    if uuid is not None:
        return b + u8(uuid)
    b += u8(kind)
    if kind == 0:                      # memref: list page, offs/16, pages, bytes
        b += u8(fields[0]) + u8(fields[1]) + u8(fields[2]) + u8(fields[3])
    elif kind == 1:                    # rmem: offs, size/64
        b += u8(fields[0]) + u8(fields[1])
    elif kind == 2:                    # value a, b
        b += u64(fields[0]) + u64(fields[1])
    return b + u8(shm)


def msg(g, page, cmd, func, session, params):
    b = u8(OP_MSG) + u8(g) + u8(page) + u8(len(params)) + u8(cmd)
    b += u8(func) + u8(session)
    for p in params:
        b += p
    return b


def open_session(g, page, uuid):
    return msg(g, page, CMD_OPEN, 0, 0, [
        param(A_META, 0, uuid=uuid),
        param(A_META, 2, 0, 0),
    ]) + smc(g, FID_CALL_WITH_ARG, page)


def pagelist(g, first, npages, data, mode=3):
    return (u8(OP_LIST) + u8(g) + u8(first) + u8(npages // 8) +
            u8(npages % 8) + u8(data) + u8(mode))


def restart(g, again=True):
    return u8(OP_RESTART) + u8(g) + u8(1 if again else 0)


def none3():
    return [param(A_NONE, 3)] * 3


def seeds_smc():
    s = {}
    s["value_inout"] = header() + open_session(0, 0, U_INVOKE) + msg(
        0, 1, CMD_INVOKE, 1, 1,
        [param(A_VINOUT, 2, 5, 7)] + none3()) + smc(0, FID_CALL_WITH_ARG, 1)
    s["tmem_list"] = header() + open_session(0, 0, U_INVOKE) + pagelist(
        0, 0, 600, 0) + msg(0, 1, CMD_INVOKE, 1, 1,
                            [param(A_TINOUT_NC, 0, 0, 1, 2, 100)] + none3()
                            ) + smc(0, FID_CALL_WITH_ARG, 1)
    s["register_rmem_unregister"] = header() + open_session(
        0, 0, U_INVOKE) + pagelist(0, 0, 3, 0) + msg(
        0, 1, CMD_REGISTER, 0, 0,
        [param(A_TOUT_NC, 0, 0, 0, 3, 0, shm=1)]) + smc(
        0, FID_CALL_WITH_ARG, 1) + msg(
        0, 1, CMD_INVOKE, 1, 1,
        [param(A_RINOUT, 1, 10, 16, shm=1)] + none3()) + smc(
        0, FID_CALL_WITH_ARG, 1) + smc(0, FID_REGD_ARG) + msg(
        0, 1, CMD_UNREGISTER, 0, 0, [param(A_RIN, 3, shm=1)]) + smc(
        0, FID_CALL_WITH_ARG, 1)
    s["get_time_rpcs"] = header() + open_session(0, 0, U_STATS) + msg(
        0, 1, CMD_INVOKE, 4, 1,
        [param(A_VOUT, 3), param(A_VOUT, 3)]) + smc(
        0, FID_CALL_WITH_ARG, 1) + answer(0) + answer(0) + answer(0)
    s["get_time_rpc_arg"] = header() + open_session(0, 0, U_STATS) + msg(
        0, 1, CMD_INVOKE, 4, 1,
        [param(A_VOUT, 3), param(A_VOUT, 3)]) + smc(
        0, FID_CALL_WITH_RPC_ARG, 1) + answer(0)
    s["yield_foreign_intr"] = header() + open_session(0, 0, U_YIELD) + msg(
        0, 1, CMD_INVOKE, 0, 1, [param(A_VINOUT, 2, 3, 0)]) + smc(
        0, FID_CALL_WITH_ARG, 1) + answer(0) + answer(0) + answer(0)
    s["destroy_mid_rpc"] = header() + open_session(0, 0, U_YIELD) + msg(
        0, 1, CMD_INVOKE, 0, 1, [param(A_VINOUT, 2, 9, 0)]) + smc(
        0, FID_CALL_WITH_ARG, 1) + answer(0) + restart(0)
    s["absent_ta_load_rpcs"] = header() + open_session(0, 0, U_ABSENT) + (
        answer(0) * 10)
    s["bigbuf"] = header() + open_session(1, 0, U_BIGBUF) + pagelist(
        1, 0, 64, 0) + pagelist(1, 4, 64, 70) + msg(
        1, 1, CMD_INVOKE, 0, 1,
        [param(A_TIN_NC, 0, 0, 0, 40, 0), param(A_TOUT_NC, 0, 4, 0, 40, 0),
         param(A_VOUT, 3)]) + smc(1, FID_CALL_WITH_ARG, 1)
    s["two_guests_injection"] = header(inject=30, seed=7) + open_session(
        0, 0, U_INVOKE) + open_session(1, 0, U_DEVENUM) + msg(
        0, 1, CMD_INVOKE, 1, 1,
        [param(A_VINOUT, 2, 1, 2)] + none3()) + smc(
        0, FID_CALL_WITH_ARG, 1) + answer(0) + smc(
        2, FID_EXCHANGE_CAPS) + smc(1, FID_CALLS_UID) + answer(0)
    return s


def seeds_parsers():
    def write(g_entries):
        b = u8(0) + u8(len(g_entries))
        for page, slot, kind, val in g_entries:
            b += u8(page) + u32(slot) + u8(kind)
            b += u32(val) if kind == 0 else (u8(val) if kind == 1 else
                                             u64(val))
        return b

    def plist(np, first):
        return u8(1) + u32(np - 1) + u8(first)

    def message(cmd, params):
        b = u8(2) + u8(len(params)) + u8(cmd) + u8(1)
        for attr, listpage, size in params:
            b += u8(0) + u8(attr) + u8(1) + u8(listpage) + u8(0)
            b += u8(1) + u32(size) + u8(0)
        return b

    chain = [(0, k, 0, 64 + k) for k in range(8)] + [(0, 511, 1, 1)]
    s = {}
    s["one_list_page"] = u8(0) + write(chain) + plist(8, 0)
    s["two_list_pages"] = u8(0) + write(chain) + plist(600, 0)
    s["self_loop"] = u8(0) + write([(0, 511, 1, 0)]) + plist(1100, 0)
    s["message_tmem"] = u8(1) + write(chain) + message(
        1, [(0x209, 0, 4096 * 3), (0x203, 0, 0)])
    s["message_register"] = u8(2) + write(chain) + message(
        4, [(0x20A, 0, 4096 * 2)])
    return s


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    for name, seeds in (("smc", seeds_smc()), ("parsers", seeds_parsers())):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for seed, data in seeds.items():
            with open(os.path.join(d, seed), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
