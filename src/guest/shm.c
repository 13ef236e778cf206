// SPDX-License-Identifier: BSD-2-Clause
/*
 * Guest shared memory: pages of guest RAM, the NONCONTIG page lists that
 * describe them to the TEE, and the cookie table.
 *
 * Cookies are chosen by the driver (a counter, never a pointer) and every
 * cookie the TEE hands back is looked up in the table: a cookie the driver
 * did not give out, or of the wrong kind, is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "optee_private.h"

int tgg_guest_pages_alloc(struct tg_optee *drv, uint32_t count, uint64_t *ipa,
			  void **va)
{
	struct tg_vcpu *vcpu = tgg_drv_vcpu(drv);
	uint64_t first;
	uint32_t i;
	uint8_t *p;

	if (!count || tg_alloc_pages(vcpu, count, &first))
		return TG_ENOMEM;
	p = tg_ipa_ptr(vcpu, first);
	if (!p) {
		tg_free_pages(vcpu, first, count);
		return TG_ENOMEM;
	}
	/* The guest view is contiguous (guest.h); check the ends agree. */
	if (count > 1 &&
	    tg_ipa_ptr(vcpu, first + (uint64_t)(count - 1) * PAGE_SIZE) !=
		    p + (size_t)(count - 1) * PAGE_SIZE) {
		tg_free_pages(vcpu, first, count);
		return TG_ENOMEM;
	}
	for (i = 0; i < count; i++)
		memset(p + (size_t)i * PAGE_SIZE, 0, PAGE_SIZE);
	*ipa = first;
	if (va)
		*va = p;
	return TG_OK;
}

void tgg_guest_pages_free(struct tg_optee *drv, uint64_t ipa, uint32_t count)
{
	if (count)
		tg_free_pages(tgg_drv_vcpu(drv), ipa, count);
}

/**
 * tgg_pagelist_build() - describe [data_ipa, data_ipa + size) as a NONCONTIG
 * page list: list pages of 511 data page IPAs, the next list page's IPA at
 * byte 4088 (0 in the last one). The caller puts
 * list_ipa | (data_ipa & 0xFFF) in buf_ptr.
 */
int tgg_pagelist_build(struct tg_optee *drv, uint64_t data_ipa, size_t size,
		       uint64_t *list_ipa, uint32_t *list_pages)
{
	uint64_t first_page = data_ipa & ~PAGE_MASK_LOW;
	uint64_t span = (data_ipa & PAGE_MASK_LOW) + (size ? size : 1);
	uint64_t ndata = (span + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t nlist = (ndata + OPTEE_MSG_PAGELIST_ENTRIES - 1) /
			 OPTEE_MSG_PAGELIST_ENTRIES;
	uint64_t base, i;
	uint8_t *va;

	if (nlist > UINT32_MAX / 2)
		return TG_ENOMEM;
	if (tgg_guest_pages_alloc(drv, (uint32_t)nlist, &base, (void **)&va))
		return TG_ENOMEM;
	for (i = 0; i < ndata; i++) {
		uint64_t *list =
			(uint64_t *)(void *)(va +
					     (i / OPTEE_MSG_PAGELIST_ENTRIES) *
						     PAGE_SIZE);

		list[i % OPTEE_MSG_PAGELIST_ENTRIES] =
			first_page + i * PAGE_SIZE;
	}
	for (i = 0; i + 1 < nlist; i++) {
		uint64_t *next =
			(uint64_t *)(void *)(va + i * PAGE_SIZE +
					     OPTEE_MSG_PAGELIST_NEXT_OFFSET);
		*next = base + (i + 1) * PAGE_SIZE;
	}
	*list_ipa = base;
	*list_pages = (uint32_t)nlist;
	return TG_OK;
}

void tgg_pagelist_free(struct tg_optee *drv, uint64_t list_ipa,
		       uint32_t list_pages)
{
	tgg_guest_pages_free(drv, list_ipa, list_pages);
}

/* A new shm over freshly allocated, zeroed pages; no cookie yet. */
struct tg_optee_shm *tgg_shm_new_pages(struct tg_optee *drv, size_t size,
				       uint32_t kind)
{
	struct tg_optee_shm *shm;
	uint64_t npages = (size + PAGE_SIZE - 1) / PAGE_SIZE;

	if (!size || npages > UINT32_MAX / 2)
		return NULL;
	shm = calloc(1, sizeof(*shm));
	if (!shm)
		return NULL;
	if (tgg_guest_pages_alloc(drv, (uint32_t)npages, &shm->ipa, &shm->va)) {
		free(shm);
		return NULL;
	}
	shm->alloc_ipa = shm->ipa;
	shm->alloc_pages = (uint32_t)npages;
	shm->size = size;
	shm->kind = kind;
	shm->drv = drv;
	return shm;
}

/* Give @shm a fresh cookie and put it in the table. */
void tgg_shm_link(struct tg_optee *drv, struct tg_optee_shm *shm)
{
	pthread_mutex_lock(&drv->lock);
	shm->cookie = ++drv->next_cookie;
	shm->next = drv->shms;
	drv->shms = shm;
	pthread_mutex_unlock(&drv->lock);
}

/* Put @shm in the table under @cookie (an FF-A handle). */
void tgg_shm_link_as(struct tg_optee *drv, struct tg_optee_shm *shm,
		     uint64_t cookie)
{
	pthread_mutex_lock(&drv->lock);
	shm->cookie = cookie;
	shm->next = drv->shms;
	drv->shms = shm;
	pthread_mutex_unlock(&drv->lock);
}

struct tg_optee_shm *tgg_shm_find_cookie(struct tg_optee *drv, uint64_t cookie,
					 uint32_t kind)
{
	struct tg_optee_shm *s;

	if (!cookie)
		return NULL;
	pthread_mutex_lock(&drv->lock);
	for (s = drv->shms; s; s = s->next)
		if (s->cookie == cookie && s->kind == kind)
			break;
	pthread_mutex_unlock(&drv->lock);
	return s;
}

/* Take the shm with @cookie of @kind out of the table (NULL if none). */
struct tg_optee_shm *tgg_shm_unlink_cookie(struct tg_optee *drv,
					   uint64_t cookie, uint32_t kind)
{
	struct tg_optee_shm **pp, *s = NULL;

	if (!cookie)
		return NULL;
	pthread_mutex_lock(&drv->lock);
	for (pp = &drv->shms; *pp; pp = &(*pp)->next) {
		if ((*pp)->cookie == cookie && (*pp)->kind == kind) {
			s = *pp;
			*pp = s->next;
			s->next = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&drv->lock);
	return s;
}

/* Take @shm itself out of the table; false if it was not in it. */
static bool shm_unlink(struct tg_optee *drv, struct tg_optee_shm *shm)
{
	struct tg_optee_shm **pp;
	bool found = false;

	pthread_mutex_lock(&drv->lock);
	for (pp = &drv->shms; *pp; pp = &(*pp)->next) {
		if (*pp == shm) {
			*pp = shm->next;
			shm->next = NULL;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&drv->lock);
	return found;
}

/* Free the pages and page list of an unlinked shm, and the shm. */
void tgg_shm_release_pages(struct tg_optee *drv, struct tg_optee_shm *shm)
{
	if (shm->list_pages)
		tgg_pagelist_free(drv, shm->list_ipa, shm->list_pages);
	if (shm->alloc_pages)
		tgg_guest_pages_free(drv, shm->alloc_ipa, shm->alloc_pages);
	free(shm);
}

static int shm_unregister(struct tg_optee *drv, struct tg_optee_shm *shm);

/*
 * @shm stays registered (its UNREGISTER was refused or failed on the way):
 * the TEE may still use its pages, so they are not reused. It stays in the
 * table, and the driver asks again at its removal (tgg_shm_free_all()).
 */
void tgg_shm_abandon(struct tg_optee *drv, struct tg_optee_shm *shm)
{
	pthread_mutex_lock(&drv->lock);
	shm->abandoned = true;
	pthread_mutex_unlock(&drv->lock);
}

/**
 * tgg_shm_register() - REGISTER_SHM @shm with a fresh cookie: one parameter,
 * attr TMEM_OUTPUT|NONCONTIG (what OP-TEE checks), a page list of the
 * buffer, shm_ref = cookie. The page list is only needed during the call.
 */
int tgg_shm_register(struct tg_optee *drv, struct tg_optee_shm *shm,
		     enum tg_optee_call_form form, uint32_t *tee_ret)
{
	struct {
		struct optee_msg_arg hdr;
		struct optee_msg_param p[1];
	} m;
	uint64_t list_ipa;
	uint32_t list_pages, smc_ret = 0;
	int rc;

	if (drv->ffa)
		return tgg_ffa_shm_register(drv, shm, tee_ret);
	if (tgg_pagelist_build(drv, shm->ipa, shm->size, &list_ipa,
			       &list_pages))
		return TG_ENOMEM;
	tgg_shm_link(drv, shm);
	memset(&m, 0, sizeof(m));
	m.hdr.cmd = OPTEE_MSG_CMD_REGISTER_SHM;
	m.hdr.num_params = 1;
	m.p[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	m.p[0].u.tmem.buf_ptr = list_ipa | (shm->ipa & PAGE_MASK_LOW);
	m.p[0].u.tmem.size = shm->size;
	m.p[0].u.tmem.shm_ref = shm->cookie;
	rc = tgg_std_call(drv, form, &m.hdr, &smc_ret);
	tgg_pagelist_free(drv, list_ipa, list_pages);
	if (tee_ret)
		*tee_ret = rc ? TEEC_ERROR_COMMUNICATION : m.hdr.ret;
	if (smc_ret == OPTEE_SMC_RETURN_ENOTAVAIL)
		/*
		 * The call failed on the way (a mediator that died with
		 * it): it may have taken effect. Unregister the cookie so
		 * that nothing stays registered that we think is not;
		 * "not found" is fine.
		 */
		shm_unregister(drv, shm);
	if (rc || m.hdr.ret != TEEC_SUCCESS) {
		tgg_shm_unlink_cookie(drv, shm->cookie, shm->kind);
		shm->cookie = 0;
		return rc == TG_ENOMEM ? TG_ENOMEM : TG_EPROTO;
	}
	return TG_OK;
}

static int shm_unregister(struct tg_optee *drv, struct tg_optee_shm *shm)
{
	struct {
		struct optee_msg_arg hdr;
		struct optee_msg_param p[1];
	} m;
	uint32_t smc_ret = 0, tries = 0;
	int rc;

	if (drv->ffa)
		return tgg_ffa_shm_unregister(drv, shm);
	/*
	 * ENOTAVAIL: the call failed on the way (a mediator that died with
	 * it), so it may or may not have happened. Ask again: the answer
	 * then says (BAD_PARAMETERS if it had).
	 */
	do {
		memset(&m, 0, sizeof(m));
		m.hdr.cmd = OPTEE_MSG_CMD_UNREGISTER_SHM;
		m.hdr.num_params = 1;
		m.p[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		m.p[0].u.rmem.shm_ref = shm->cookie;
		smc_ret = 0;
		rc = tgg_std_call(drv,
				  drv->info.call_form ==
						  TG_OPTEE_FORM_REGD_ARG &&
					  shm->kind == SHM_KIND_ARG_CACHE
					  ? TG_OPTEE_FORM_ARG
					  : drv->info.call_form,
				  &m.hdr, &smc_ret);
	} while (rc && smc_ret == OPTEE_SMC_RETURN_ENOTAVAIL && ++tries < 3);
	if (rc)
		return rc; /* failed on the way: it may not have happened */
	/* Gone, or not registered: OP-TEE 4.10 answers BAD_PARAMETERS to a
	 * cookie it does not know (a retry after a lost answer). */
	if (m.hdr.ret == TEEC_SUCCESS || m.hdr.ret == TEEC_ERROR_BAD_PARAMETERS)
		return TG_OK;
	/* Refused (BUSY: a call uses it): the TEE may still use the pages. */
	return m.hdr.ret == TEEC_ERROR_BUSY ? TG_EBUSY : TG_EPROTO;
}

int tg_optee_shm_alloc(struct tg_optee *drv, size_t size, bool reg,
		       struct tg_optee_shm **out, uint32_t *tee_ret)
{
	struct tg_optee_shm *shm;
	int rc;

	if (!drv || !out)
		return TG_EINVAL;
	shm = tgg_shm_new_pages(drv, size ? size : 1, SHM_KIND_CLIENT);
	if (!shm)
		return TG_ENOMEM;
	shm->size = size ? size : 1;
	if (reg) {
		rc = tgg_shm_register(drv, shm, drv->info.call_form, tee_ret);
		if (rc) {
			tgg_shm_release_pages(drv, shm);
			return rc;
		}
	}
	*out = shm;
	return TG_OK;
}

int tg_optee_shm_register_buf(struct tg_optee *drv, void *buf, size_t size,
			      struct tg_optee_shm **out, uint32_t *tee_ret)
{
	struct tg_optee_shm *shm;
	uint64_t ipa;
	int rc;

	if (!drv || !out || !buf || !size)
		return TG_EINVAL;
	if (!tg_optee_ipa_of(drv, buf, size, &ipa))
		return TG_EFAULT;
	shm = calloc(1, sizeof(*shm));
	if (!shm)
		return TG_ENOMEM;
	shm->va = buf;
	shm->ipa = ipa;
	shm->size = size;
	shm->kind = SHM_KIND_CLIENT;
	shm->drv = drv;
	rc = tgg_shm_register(drv, shm, drv->info.call_form, tee_ret);
	if (rc) {
		free(shm);
		return rc;
	}
	*out = shm;
	return TG_OK;
}

int tg_optee_shm_free(struct tg_optee_shm *shm)
{
	struct tg_optee *drv;

	if (!shm)
		return TG_OK;
	drv = shm->drv;
	if (shm->cookie && drv->ffa) {
		/*
		 * Out of the table first, as Linux's optee_ffa_shm_unregister()
		 * does: once reclaimed the SPMC may give the same handle to
		 * the next share, which another vCPU then puts in the table.
		 */
		bool linked = shm_unlink(drv, shm);
		int rc = shm_unregister(drv, shm);

		if (rc == TG_EBUSY) {
			if (linked)
				tgg_shm_link_as(drv, shm, shm->cookie);
			return rc;
		}
	} else if (shm->cookie) {
		int rc = shm_unregister(drv, shm);

		/* Not unregistered: the TEE may still read or write the
		 * pages, so they are not freed (nor reused). BUSY: the
		 * caller frees it again later; otherwise the driver keeps
		 * it and tries again at its removal. */
		if (rc == TG_EBUSY)
			return rc;
		if (rc) {
			tgg_shm_abandon(drv, shm);
			return rc;
		}
		tgg_shm_unlink_cookie(drv, shm->cookie, shm->kind);
	}
	tgg_shm_release_pages(drv, shm);
	return TG_OK;
}

bool tg_optee_ipa_of(struct tg_optee *drv, const void *p, size_t len,
		     uint64_t *ipa)
{
	const uint8_t *b = p;
	struct mem_region *r;
	struct tg_optee_shm *s;
	bool found = false;

	if (!drv || !p)
		return false;
	pthread_mutex_lock(&drv->lock);
	for (r = drv->regions; r && !found; r = r->next) {
		const uint8_t *start = r->va;
		size_t rlen = (size_t)r->npages * PAGE_SIZE;

		if (b >= start && b < start + rlen &&
		    len <= rlen - (size_t)(b - start)) {
			*ipa = r->ipa + (uint64_t)(b - start);
			found = true;
		}
	}
	for (s = drv->shms; s && !found; s = s->next) {
		const uint8_t *start = s->va;
		size_t slen = (size_t)s->alloc_pages * PAGE_SIZE;

		if (s->alloc_pages && b >= start && b < start + slen &&
		    len <= slen - (size_t)(b - start)) {
			*ipa = s->ipa + (uint64_t)(b - start);
			found = true;
		}
	}
	pthread_mutex_unlock(&drv->lock);
	return found;
}

void *tg_optee_mem_alloc(struct tg_optee *drv, size_t size)
{
	struct mem_region *r;
	uint64_t npages = (size + PAGE_SIZE - 1) / PAGE_SIZE;

	if (!drv || !size || npages > UINT32_MAX / 2)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (tgg_guest_pages_alloc(drv, (uint32_t)npages, &r->ipa, &r->va)) {
		free(r);
		return NULL;
	}
	r->npages = (uint32_t)npages;
	pthread_mutex_lock(&drv->lock);
	r->next = drv->regions;
	drv->regions = r;
	pthread_mutex_unlock(&drv->lock);
	return r->va;
}

void tg_optee_mem_free(struct tg_optee *drv, void *p)
{
	struct mem_region **pp, *r = NULL;

	if (!drv || !p)
		return;
	pthread_mutex_lock(&drv->lock);
	for (pp = &drv->regions; *pp; pp = &(*pp)->next) {
		if ((*pp)->va == p) {
			r = *pp;
			*pp = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&drv->lock);
	if (r) {
		tgg_guest_pages_free(drv, r->ipa, r->npages);
		free(r);
	}
}

/* At teardown: free RPC allocations the TEE never freed, client shms
 * whose free could not unregister them (asked once more), and regions.
 * Other client shms are the clients' to free. */
void tgg_shm_free_all(struct tg_optee *drv)
{
	struct tg_optee_shm **pp = &drv->shms, *s;
	struct mem_region *r;

	pthread_mutex_lock(&drv->lock);
	while ((s = *pp)) {
		if (s->kind == SHM_KIND_RPC_ALLOC ||
		    s->kind == SHM_KIND_RPC_SHM) {
			*pp = s->next;
			pthread_mutex_unlock(&drv->lock);
			/* FF-A: a page still shared must not be reused. */
			if (drv->ffa &&
			    tgg_ffa_shm_unregister(drv, s) != TG_OK) {
				pthread_mutex_lock(&drv->lock);
				continue; /* leaked on purpose: still shared */
			}
			tgg_shm_release_pages(drv, s);
			pthread_mutex_lock(&drv->lock);
		} else if (s->abandoned) {
			*pp = s->next;
			pthread_mutex_unlock(&drv->lock);
			if (shm_unregister(drv, s) == TG_OK)
				tgg_shm_release_pages(drv, s);
			else
				free(s); /* its pages stay out of use */
			pthread_mutex_lock(&drv->lock);
		} else {
			pp = &s->next;
		}
	}
	while ((r = drv->regions)) {
		drv->regions = r->next;
		tgg_guest_pages_free(drv, r->ipa, r->npages);
		free(r);
	}
	pthread_mutex_unlock(&drv->lock);
}
