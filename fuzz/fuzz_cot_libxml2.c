/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cot_libxml2.c - differential: the CoT parser must never accept a
 * document that libxml2 rejects as not well-formed (cot_parse.h).
 *
 * If cot_parse() returns COT_OK, the document (after a TAK v0 header, if
 * any) is parsed by libxml2 with no network, no DTD loading and no entity
 * substitution; abort() if libxml2 finds it not well-formed, or if its root
 * element is not <event>.
 *
 * Then the values agree: every <event> attribute the parser returns (entities
 * and character references decoded, attribute-value normalisation of XML 1.0
 * §3.3.3 applied) must be what libxml2 reads, so that the rules and the
 * marking see what any XML consumer downstream sees.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "cot_parse.h"
#include "fuzz_common.h"

static struct cot_event ev;

static void
check_attr(xmlNodePtr root, const char *name, const struct cot_str *got)
{
	xmlChar *v = xmlGetProp(root, (const xmlChar *)name);

	if (v == NULL) {
		if (got->p != NULL) {
			fprintf(stderr, "attribute %s: cot_parse has it, libxml2 does not\n", name);
			abort();
		}
		return;
	}
	if (got->p == NULL || strlen((const char *)v) != got->len ||
	    memcmp(v, got->p, got->len) != 0) {
		fprintf(stderr, "attribute %s: cot_parse \"%.*s\" (%u bytes), libxml2 \"%s\" (%zu bytes)\n",
			name, got->p ? (int)got->len : 6, got->p ? got->p : "(none)", got->len,
			(const char *)v, strlen((const char *)v));
		abort();
	}
	xmlFree(v);
}

static void
xml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void
xml_quiet_structured(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, xml_quiet);
	xmlSetStructuredErrorFunc(NULL, xml_quiet_structured);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *doc_p = data;
	size_t doc_n = size;
	xmlDocPtr doc;
	xmlNodePtr root;

	if (cot_parse(data, size, &ev) != COT_OK)
		return 0;
	if (doc_n >= 3 && doc_p[0] == 0xbf && doc_p[1] == 0x00 && doc_p[2] == 0xbf) {
		doc_p += 3;
		doc_n -= 3;
	}
	/* XML_PARSE_NOENT is NOT given: entities are not substituted; no
	 * XML_PARSE_DTDLOAD / DTDATTR / DTDVALID: no external DTD is read. */
	doc = xmlReadMemory((const char *)doc_p, (int)doc_n, "fuzz.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *xe = xmlGetLastError();

		fprintf(stderr, "cot_parse accepted a document libxml2 rejects: %s",
			xe && xe->message ? xe->message : "(no message)\n");
		abort();
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || root->name == NULL || strcmp((const char *)root->name, "event") != 0) {
		fprintf(stderr, "cot_parse accepted a document whose libxml2 root is <%s>\n",
			root && root->name ? (const char *)root->name : "(none)");
		abort();
	}
	check_attr(root, "version", &ev.version);
	check_attr(root, "uid", &ev.uid);
	check_attr(root, "type", &ev.type);
	check_attr(root, "how", &ev.how);
	check_attr(root, "access", &ev.access);
	check_attr(root, "qos", &ev.qos);
	check_attr(root, "opex", &ev.opex);
	check_attr(root, "caveat", &ev.caveat);
	if (!(ev.flags & COT_F_REL_BOTH)) {
		xmlChar *a = xmlGetProp(root, (const xmlChar *)"releasableTo");

		check_attr(root, a ? "releasableTo" : "releaseableTo", &ev.releasable_to);
		xmlFree(a);
	}
	xmlFreeDoc(doc);
	xmlResetLastError();
	return 0;
}
