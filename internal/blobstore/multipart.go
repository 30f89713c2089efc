package blobstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
)

// Upload is an incomplete multipart upload: parts an S3 bucket keeps (and
// bills) until the upload is completed or aborted, such as those of a
// process killed mid-upload.
type Upload struct {
	Key       string
	ID        string
	Initiated time.Time
}

// ErrNoMultipart is the answer of a bucket that has no multipart uploads to
// list (every bucket but S3's).
var ErrNoMultipart = errors.New("the bucket has no multipart uploads")

// s3Bucket returns the S3 client and bucket name under b, through the
// driver's escape hatch.
func s3Bucket(b *blob.Bucket, name string) (*s3.Client, bool) {
	var c *s3.Client
	return c, name != "" && b.As(&c)
}

// IncompleteUploads lists the incomplete multipart uploads under Prefix of
// the S3 bucket called name; ErrNoMultipart for other buckets.
func IncompleteUploads(ctx context.Context, b *blob.Bucket, name string) ([]Upload, error) {
	c, ok := s3Bucket(b, name)
	if !ok {
		return nil, ErrNoMultipart
	}
	var out []Upload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(name), Prefix: aws.String(Prefix)}
	for {
		page, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			return out, fmt.Errorf("list multipart uploads: %w", err)
		}
		for _, u := range page.Uploads {
			out = append(out, Upload{Key: aws.ToString(u.Key), ID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

// AbortUpload aborts an incomplete multipart upload, freeing its parts.
func AbortUpload(ctx context.Context, b *blob.Bucket, name string, u Upload) error {
	c, ok := s3Bucket(b, name)
	if !ok {
		return ErrNoMultipart
	}
	_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(name), Key: aws.String(u.Key), UploadId: aws.String(u.ID)})
	if err != nil {
		return fmt.Errorf("abort multipart upload of %s: %w", u.Key, err)
	}
	return nil
}

// BucketName is the bucket's name in an s3:// URL, "" for other URLs: the
// S3 client under a bucket does not know it.
func BucketName(rawURL string) string {
	rest, ok := strings.CutPrefix(rawURL, "s3://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
