package app

import (
	"errors"
	"net/url"
)

func urlHost(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return "", errors.New("not an origin")
	}
	return u.Host, nil
}
