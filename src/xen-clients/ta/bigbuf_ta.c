// SPDX-License-Identifier: BSD-2-Clause
/* The bigbuf TA: bigbuf_ta.h says what it does. */
#include <tee_internal_api.h>

#include "bigbuf_ta.h"

TEE_Result TA_CreateEntryPoint(void)
{
	return TEE_SUCCESS;
}

void TA_DestroyEntryPoint(void)
{
}

TEE_Result TA_OpenSessionEntryPoint(uint32_t types,
				    TEE_Param params[TEE_NUM_PARAMS],
				    void **session)
{
	(void)types;
	(void)params;
	*session = NULL;
	return TEE_SUCCESS;
}

void TA_CloseSessionEntryPoint(void *session)
{
	(void)session;
}

TEE_Result TA_InvokeCommandEntryPoint(void *session, uint32_t cmd,
				      uint32_t types,
				      TEE_Param params[TEE_NUM_PARAMS])
{
	const uint32_t want = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INOUT,
					      TEE_PARAM_TYPE_NONE,
					      TEE_PARAM_TYPE_NONE,
					      TEE_PARAM_TYPE_NONE);
	uint8_t *p, sum = 0;
	size_t i, n;

	(void)session;
	if (cmd != TG_BIGBUF_TA_CMD_SUM)
		return TEE_ERROR_NOT_SUPPORTED;
	if (types != want || !params[0].memref.size)
		return TEE_ERROR_BAD_PARAMETERS;
	p = params[0].memref.buffer;
	n = params[0].memref.size;
	for (i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	p[0] = sum;
	return TEE_SUCCESS;
}
