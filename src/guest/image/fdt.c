// SPDX-License-Identifier: BSD-2-Clause
/*
 * A minimal flattened-device-tree reader: the image needs its command
 * line, its RAM, whether it runs on Xen, the OP-TEE and PSCI conduits and
 * a UART. The tree comes from the toolstack (trusted as much as the
 * hypervisor); every offset is still checked against the blob's size.
 */
#include <string.h>

#include "image.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
#define MAX_DEPTH 8

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t cells(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		v = v << 32 | be32(p + 4 * i);
	return v;
}

/* Does the string list @v (@len bytes) hold @want? */
static bool has_string(const char *v, uint32_t len, const char *want)
{
	uint32_t i = 0, n = (uint32_t)strlen(want);

	while (i < len) {
		uint32_t l = 0;

		while (i + l < len && v[i + l])
			l++;
		if (l == n && !tg_strncmp(v + i, want, n))
			return true;
		i += l + 1;
	}
	return false;
}

static bool name_is(const char *name, const char *want)
{
	size_t n = strlen(want);

	/* "memory" matches "memory" and "memory@40000000" */
	return !tg_strncmp(name, want, n) && (name[n] == 0 || name[n] == '@');
}

/* A unit address: hexadecimal without 0x. */
static bool parse_hex(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	uint32_t n = 0;

	for (; *s && n < 16; s++, n++) {
		uint64_t d;

		if (*s >= '0' && *s <= '9')
			d = (uint64_t)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (uint64_t)(*s - 'a' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	if (!n || *s)
		return false;
	*out = v;
	return true;
}

static int method(const char *v, uint32_t len)
{
	if (len >= 4 && !tg_strncmp(v, "hvc", 4))
		return TG_CONDUIT_HVC;
	if (len >= 4 && !tg_strncmp(v, "smc", 4))
		return TG_CONDUIT_SMC;
	return -1;
}

int tg_dt_read(const void *dtb, struct tg_dt_info *info)
{
	const uint8_t *b = dtb;
	const char *path[MAX_DEPTH];
	uint32_t size, off_struct, off_strings, size_struct, size_strings;
	uint32_t addr_cells = 2, size_cells = 2, pos, depth = 0;

	memset(info, 0, sizeof(*info));
	info->optee_method = info->psci_method = -1;
	if (!b || be32(b) != FDT_MAGIC)
		return -1;
	size = be32(b + 4);
	off_struct = be32(b + 8);
	off_strings = be32(b + 12);
	size_strings = be32(b + 32);
	size_struct = be32(b + 36);
	if (size < 40 || size > (64u << 20) || off_struct > size ||
	    size_struct > size - off_struct || off_strings > size ||
	    size_strings > size - off_strings)
		return -1;
	info->dtb_size = size;
	for (pos = off_struct; pos + 4 <= off_struct + size_struct;) {
		uint32_t tok = be32(b + pos);

		pos += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)b + pos;
			uint32_t l = 0;

			while (pos + l < off_struct + size_struct && name[l])
				l++;
			if (depth < MAX_DEPTH)
				path[depth] = name;
			depth++;
			pos += (l + 4) & ~3u;
		} else if (tok == FDT_END_NODE) {
			if (!depth)
				return -1;
			depth--;
		} else if (tok == FDT_PROP) {
			uint32_t len, nameoff;
			const char *pname, *v;

			if (pos + 8 > off_struct + size_struct)
				return -1;
			len = be32(b + pos);
			nameoff = be32(b + pos + 4);
			pos += 8;
			if (len > off_struct + size_struct - pos ||
			    nameoff >= size_strings)
				return -1;
			pname = (const char *)b + off_strings + nameoff;
			v = (const char *)b + pos;
			pos += (len + 3) & ~3u;
			if (depth == 1 &&
			    !tg_strncmp(pname, "#address-cells", 15) &&
			    len == 4)
				addr_cells = be32((const uint8_t *)v);
			else if (depth == 1 &&
				 !tg_strncmp(pname, "#size-cells", 12) &&
				 len == 4)
				size_cells = be32((const uint8_t *)v);
			if (depth != 2 && depth != 3)
				continue;
			if (depth == 2 && name_is(path[1], "chosen") &&
			    !tg_strncmp(pname, "bootargs", 9) && len &&
			    !v[len - 1])
				info->bootargs = v;
			else if (depth == 2 && name_is(path[1], "memory") &&
				 !tg_strncmp(pname, "reg", 4) &&
				 addr_cells <= 2 && size_cells <= 2) {
				uint32_t one = 4 * (addr_cells + size_cells), o;

				for (o = 0; one && o + one <= len &&
					    info->mem_count < 4;
				     o += one) {
					info->mem_base[info->mem_count] =
						cells((const uint8_t *)v + o,
						      addr_cells);
					info->mem_size[info->mem_count++] =
						cells((const uint8_t *)v + o +
							      4 * addr_cells,
						      size_cells);
				}
			} else if (depth == 2 &&
				   name_is(path[1], "hypervisor") &&
				   !tg_strncmp(pname, "compatible", 11) &&
				   has_string(v, len, "xen,xen"))
				info->xen = true;
			else if (depth == 2 && name_is(path[1], "psci") &&
				 !tg_strncmp(pname, "method", 7))
				info->psci_method = method(v, len);
			else if (depth == 3 && name_is(path[1], "firmware") &&
				 name_is(path[2], "optee") &&
				 !tg_strncmp(pname, "method", 7))
				info->optee_method = method(v, len);
			else if (depth == 2 && !info->sbsa_uart &&
				 !tg_strncmp(pname, "compatible", 11) &&
				 (has_string(v, len, "arm,sbsa-uart") ||
				  has_string(v, len, "arm,pl011"))) {
				/* the node's unit address is its base */
				const char *at = path[1];
				uint64_t base;

				while (*at && *at != '@')
					at++;
				if (*at == '@' && parse_hex(at + 1, &base))
					info->sbsa_uart = base;
			}
		} else if (tok == FDT_NOP) {
			continue;
		} else if (tok == FDT_END) {
			break;
		} else {
			return -1;
		}
	}
	return 0;
}
