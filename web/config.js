// The one deployment setting. "" means the API is on the same origin as the pages (the
// embedded `gradphoto serve`); for S3/CloudFront set the API Gateway URL, e.g.
// "https://abc123.execute-api.cn-north-1.amazonaws.com.cn" (no trailing slash).
export const API_BASE = "";
