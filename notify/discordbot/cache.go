package discordbot

import (
	"container/list"
	"sync"
)

// channelCache maps user ids to DM channel ids, keeping the most recently used size entries.
type channelCache struct {
	mu    sync.Mutex
	size  int
	order *list.List               // front: most recently used; values are *cacheEntry
	byID  map[string]*list.Element // user id → element of order
}

// cacheEntry is one cached DM channel.
type cacheEntry struct {
	userID, channelID string
}

func newChannelCache(size int) *channelCache {
	return &channelCache{size: max(size, 1), order: list.New(), byID: map[string]*list.Element{}}
}

// get returns the user's DM channel id and marks it used.
func (c *channelCache) get(userID string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byID[userID]
	if !ok {
		return "", false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).channelID, true
}

// put stores the user's DM channel id, dropping the least recently used entry when full.
func (c *channelCache) put(userID, channelID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[userID]; ok {
		el.Value.(*cacheEntry).channelID = channelID
		c.order.MoveToFront(el)
		return
	}
	c.byID[userID] = c.order.PushFront(&cacheEntry{userID: userID, channelID: channelID})
	for c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byID, oldest.Value.(*cacheEntry).userID)
	}
}

// remove forgets the user's DM channel if it is still channelID.
func (c *channelCache) remove(userID, channelID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[userID]; ok && el.Value.(*cacheEntry).channelID == channelID {
		c.order.Remove(el)
		delete(c.byID, userID)
	}
}

// len counts the cached channels.
func (c *channelCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
