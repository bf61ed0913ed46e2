// SPDX-License-Identifier: Apache-2.0
// Caption windows on known lengths, the chat request's shape, the answers that are not
// captions, and Retry-After.
#include <gtest/gtest.h>

#include "reel/caption/openai.h"
#include "reel/caption/windows.h"
#include "reel/net/http.h"

using namespace reel;

TEST(CaptionWindows, TheLargePipelinesRule) {
  // 600 frames at 30 fps: [0,256) [256,512) and a remainder of 88 < 128 joining the last.
  auto w = caption_windows(600, 30);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].start_frame, 0);
  EXPECT_EQ(w[0].end_frame, 256);
  EXPECT_EQ(w[1].end_frame, 600);
  // 256 frames at 30 fps = 8.53 s: 17.07 frames at 2 fps, the even count 18, evenly from 0 to 255.
  EXPECT_EQ(w[0].frames.size(), 18u);
  EXPECT_EQ(w[0].frames.front(), 0);
  EXPECT_EQ(w[0].frames.back(), 255);
  EXPECT_EQ(w[1].frames.size(), 22u);  // 344 frames = 11.47 s -> 22.9 -> 22
  // A remainder of 128 is its own window; a 3-frame clip gets none; 5 frames: 4 of them.
  EXPECT_EQ(caption_windows(384, 25).size(), 2u);
  EXPECT_TRUE(caption_windows(3, 25).empty());
  EXPECT_EQ(caption_windows(5, 25)[0].frames, (std::vector<int64_t>{0, 1, 3, 4}));
  // Long windows clamp at 768 frames; a window never sends more frames than it has.
  WindowOptions o;
  o.window = 100000, o.fps = 30;
  EXPECT_EQ(caption_windows(90000, 30, o)[0].frames.size(), 768u);
  o.fps = 100;
  EXPECT_EQ(caption_windows(50, 25, o)[0].frames.size(), 50u);
}

TEST(ChatFormat, RequestShapeAndAnswers) {
  ChatOptions o;
  o.model = "m", o.prompt = "p", o.max_tokens = 9, o.extra = {{"top_p", 0.5}};
  const auto body = nlohmann::json::parse(chat_request_body(o, {"QUJD"}));
  EXPECT_EQ(body["model"], "m");
  EXPECT_EQ(body["max_tokens"], 9);
  EXPECT_EQ(body["top_p"], 0.5);
  const auto& content = body["messages"][0]["content"];
  EXPECT_EQ(body["messages"][0]["role"], "user");
  EXPECT_EQ(content[0], (nlohmann::json{{"type", "text"}, {"text", "p"}}));
  EXPECT_EQ(content[1]["image_url"]["url"], "data:image/jpeg;base64,QUJD");

  const std::string good = R"({"choices":[{"message":{"content":"a cat \n"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}})";
  ChatResult r = parse_chat_response(200, good);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "a cat");
  EXPECT_EQ(r.prompt_tokens, 5);
  struct Bad {
    long status;
    const char* body;
    const char* why;
  } bad[] = {{200, "{\"choices\": [", "malformed"},
             {200, R"({"choices":[]})", "no choices"},
             {200, R"({"choices":[{"message":{"content":"a ca"},"finish_reason":"length"}]})", "cut off"},
             {200, R"({"choices":[{"message":{"content":"  "},"finish_reason":"stop"}]})", "empty"},
             {200, R"({"choices":[{"message":{"content":null,"refusal":"no"},"finish_reason":"stop"}]})", "refused"},
             {400, R"({"error":{"message":"image too large"}})", "HTTP 400: image too large"}};
  for (const Bad& b : bad) {
    ChatResult x = parse_chat_response(b.status, b.body);
    EXPECT_FALSE(x.ok) << b.body;
    EXPECT_NE(x.error.find(b.why), std::string::npos) << x.error;
  }
  EXPECT_EQ(first_model_id(R"({"data":[{"id":"qwen"},{"id":"other"}]})"), "qwen");
  EXPECT_EQ(first_model_id("{}"), "");
}

TEST(Http, RetryAfterAndRetryableStatuses) {
  EXPECT_EQ(parse_retry_after("3"), 3);
  EXPECT_EQ(parse_retry_after("0.5"), 0.5);
  EXPECT_EQ(parse_retry_after(""), -1);
  EXPECT_EQ(parse_retry_after("soon"), -1);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);  // a date in the past: now
  for (long s : {429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(retryable_status(s));
  for (long s : {200L, 400L, 401L, 404L, 422L}) EXPECT_FALSE(retryable_status(s));
  CircuitBreaker b(2);
  b.failure("x");
  b.success();
  b.failure("y");
  EXPECT_FALSE(b.open());
  b.failure("z");
  EXPECT_TRUE(b.open());
}
