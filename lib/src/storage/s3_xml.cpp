// SPDX-License-Identifier: Apache-2.0
// S3's XML answers, read with libxml2 (no network, no entity expansion: the body comes from
// a server we do not control).
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstdlib>
#include <memory>

#include "reel/core/status.h"
#include "reel/storage/s3.h"

namespace reel {

namespace {
struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

Doc parse(const std::string& xml, const char* what) {
  if (xml.size() > (size_t{64} << 20)) throw Error(Code::InvalidData, std::string(what) + ": answer too large");
  xmlDoc* d = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "s3.xml", nullptr,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!d || !xmlDocGetRootElement(d)) {
    if (d) xmlFreeDoc(d);
    throw Error(Code::InvalidData, std::string(what) + ": not XML");
  }
  return Doc(d);
}

bool is(const xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

std::string text(const xmlNode* n) {
  xmlChar* c = xmlNodeGetContent(n);
  std::string s = c ? reinterpret_cast<const char*>(c) : "";
  xmlFree(c);
  return s;
}

const xmlNode* child(const xmlNode* n, const char* name) {
  for (const xmlNode* c = n->children; c; c = c->next)
    if (is(c, name)) return c;
  return nullptr;
}

std::string child_text(const xmlNode* n, const char* name) {
  const xmlNode* c = child(n, name);
  return c ? text(c) : "";
}

uint64_t to_u64(const std::string& s, const char* what) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    throw Error(Code::InvalidData, std::string(what) + ": not a size: '" + s.substr(0, 40) + "'");
  return std::strtoull(s.c_str(), nullptr, 10);
}
}  // namespace

S3ListPage parse_list_objects_v2(const std::string& xml) {
  Doc d = parse(xml, "ListObjectsV2");
  const xmlNode* root = xmlDocGetRootElement(d.get());
  if (!is(root, "ListBucketResult")) throw Error(Code::InvalidData, "ListObjectsV2: not a ListBucketResult");
  S3ListPage page;
  for (const xmlNode* c = root->children; c; c = c->next) {
    if (is(c, "Contents")) {
      S3Object o;
      o.key = child_text(c, "Key");
      if (o.key.empty()) throw Error(Code::InvalidData, "ListObjectsV2: an object without a key");
      o.size = to_u64(child_text(c, "Size"), "ListObjectsV2");
      o.etag = child_text(c, "ETag");
      page.objects.push_back(std::move(o));
    } else if (is(c, "CommonPrefixes")) {
      page.prefixes.push_back(child_text(c, "Prefix"));
    } else if (is(c, "IsTruncated")) {
      const std::string t = text(c);
      if (t != "true" && t != "false") throw Error(Code::InvalidData, "ListObjectsV2: IsTruncated is '" + t.substr(0, 20) + "'");
      page.truncated = t == "true";
    } else if (is(c, "NextContinuationToken")) {
      page.next_token = text(c);
    }
  }
  if (page.truncated && page.next_token.empty())
    throw Error(Code::InvalidData, "ListObjectsV2: truncated without a NextContinuationToken");
  return page;
}

std::string parse_upload_id(const std::string& xml) {
  Doc d = parse(xml, "CreateMultipartUpload");
  const xmlNode* root = xmlDocGetRootElement(d.get());
  const std::string id = is(root, "InitiateMultipartUploadResult") ? child_text(root, "UploadId") : "";
  if (id.empty()) throw Error(Code::InvalidData, "CreateMultipartUpload: no UploadId in the answer");
  return id;
}

std::string parse_s3_error(const std::string& xml) {
  if (xml.empty() || xml.find("<Error") == std::string::npos) return "";
  Doc d = parse(xml, "S3 error");
  const xmlNode* root = xmlDocGetRootElement(d.get());
  if (!is(root, "Error")) return "";
  std::string s = child_text(root, "Code");
  const std::string m = child_text(root, "Message");
  if (!m.empty()) s += (s.empty() ? "" : ": ") + m;
  return s.substr(0, 300);
}

}  // namespace reel
